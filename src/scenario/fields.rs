//! Shared field helpers: duration and tier deserializers, locating a value in the source for
//! errors (`Ctx`, `field_at`), serde's messages in plain words, number checks.

use super::*;

/// A duration written with units (`"90s"`).
#[derive(Clone, Copy)]
pub(super) struct Dur(pub(super) SimDuration);

/// A duration, or `"none"` for no limit.
#[derive(Clone, Copy)]
pub(super) struct MaybeDur(pub(super) Option<SimDuration>);

pub(super) struct DurVisitor {
    pub(super) allow_none: bool,
}

impl Visitor<'_> for DurVisitor {
    type Value = Option<SimDuration>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.allow_none {
            f.write_str("a duration with a unit such as \"90s\", \"15m\", \"1h\", or \"none\"")
        } else {
            f.write_str("a duration with a unit such as \"90s\", \"15m\", \"1h\"")
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if self.allow_none && v == "none" {
            return Ok(None);
        }
        parse_duration(v).map(Some).map_err(|e| E::custom(e.0))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "`{v}` has no unit: write it as a string with a unit, e.g. \"{v}s\""
        )))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "`{v}` has no unit: write it as a string with a unit, e.g. \"{v}s\""
        )))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurVisitor { allow_none: false })
            .map(|v| Dur(v.expect("none is refused")))
    }
}

impl<'de> Deserialize<'de> for MaybeDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurVisitor { allow_none: true })
            .map(MaybeDur)
    }
}

/// A tier name; an integer such as `0` is taken as the name `"0"`.
pub(super) struct Tier(pub(super) String);

impl<'de> Deserialize<'de> for Tier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Tier;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a tier name such as \"0\" or \"enterprise\", or a tier number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tier, E> {
                Ok(Tier(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tier, E> {
                Ok(Tier(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The file's text and its parsed layout, to point validation errors at the offending value.
pub(super) struct Ctx<'a> {
    pub(super) file: &'a str,
    pub(super) source: &'a str,
    /// The file parsed with spans, only once an error needs a location (parsing it for every
    /// grid point of a sweep made validation quadratic in the size of the file).
    pub(super) doc: std::cell::OnceCell<Option<toml::Spanned<toml::de::DeTable<'a>>>>,
    /// The folder of the scenario file, for files it names (relative paths).
    pub(super) base_dir: Option<&'a Path>,
}

pub(super) enum Seg<'p> {
    Key(&'p str),
    Index(usize),
}

/// Checks the syntax of a dotted path: keys, optionally followed by `[index]`s.
pub fn check_path(path: &str) -> Result<(), String> {
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        let key_ok = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let indices_ok = rest.is_empty()
            || rest.strip_suffix(']').is_some_and(|r| {
                r.split("][")
                    .all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
            });
        if !key_ok || !indices_ok {
            return Err(format!(
                "path {path:?} is not valid: write keys joined by dots, with [N] for an array entry, e.g. \"traffic[0].arrivals.rate_per_sec\""
            ));
        }
    }
    Ok(())
}

pub(super) fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        match part.split_once('[') {
            Some((key, rest)) => {
                out.push(Seg::Key(key));
                for idx in rest.split('[') {
                    if let Ok(i) = idx.trim_end_matches(']').parse() {
                        out.push(Seg::Index(i));
                    }
                }
            }
            None => out.push(Seg::Key(part)),
        }
    }
    out
}

/// The dotted path of the value (or key) at byte `offset` of `source`, e.g.
/// `traffic[0].arrivals.rate_per_sec`: the deepest one whose span holds the offset.
pub(super) fn field_at(source: &str, offset: usize) -> Option<String> {
    use toml::de::DeValue;
    fn walk(v: &DeValue, offset: usize, path: &mut String) {
        match v {
            DeValue::Table(t) => {
                let holds = |(k, val): &(&toml::Spanned<_>, &toml::Spanned<DeValue>)| {
                    k.span().contains(&offset) || val.span().contains(&offset)
                };
                // The body of a `[table]` or `[[array]]` section is not inside its header's
                // span: it belongs to the last section that starts before the offset.
                let section = |(_, val): &(&toml::Spanned<_>, &toml::Spanned<DeValue>)| {
                    matches!(val.get_ref(), DeValue::Table(_) | DeValue::Array(_))
                        && val.span().start <= offset
                };
                let entries: Vec<_> = t.iter().collect();
                let found = entries.iter().find(|e| holds(e)).or_else(|| {
                    entries
                        .iter()
                        .filter(|e| section(e))
                        .max_by_key(|(_, v)| v.span().start)
                });
                if let Some((k, val)) = found {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k.get_ref());
                    walk(val.get_ref(), offset, path);
                }
            }
            DeValue::Array(a) => {
                let found = a
                    .iter()
                    .enumerate()
                    .find(|(_, v)| v.span().contains(&offset))
                    .or_else(|| {
                        a.iter()
                            .enumerate()
                            .rev()
                            .find(|(_, v)| v.span().start <= offset)
                    });
                if let Some((i, val)) = found {
                    path.push_str(&format!("[{i}]"));
                    walk(val.get_ref(), offset, path);
                }
            }
            _ => {}
        }
    }
    let doc = toml::de::DeTable::parse(source).ok()?;
    let mut path = String::new();
    walk(&DeValue::Table(doc.get_ref().clone()), offset, &mut path);
    (!path.is_empty()).then_some(path)
}

/// Serde's wording in plain words: `expected f64` becomes "expected a number", and a table
/// given where a list of tables belongs gets the `[[...]]` hint.
pub(super) fn plain_message(message: &str, field: Option<&str>) -> String {
    let mut m = message.to_string();
    for (from, to) in [
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
        ("expected u64", "expected a whole number >= 0"),
        ("expected u32", "expected a whole number >= 0"),
        ("expected i64", "expected a whole number"),
        ("expected a boolean", "expected true or false"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a table"),
    ] {
        m = m.replace(from, to);
    }
    if let Some(rest) = m.strip_prefix("invalid type: string ")
        && rest.contains("number")
    {
        m = format!("{m} (write numbers without quotes)");
    }
    const TABLE_LISTS: [&str; 3] = ["traffic", "limits", "sweep.params"];
    if message.starts_with("invalid type: map, expected a sequence")
        && let Some(f) = field.filter(|f| TABLE_LISTS.contains(f))
    {
        m = format!(
            "`[{f}]` must be written `[[{f}]]` (double brackets): it is a list of tables, one `[[{f}]]` per entry"
        );
    }
    if let Some(rest) = m.strip_prefix("unknown variant ") {
        m = format!("unknown value {rest}");
    }
    m
}

impl<'a> Ctx<'a> {
    pub(super) fn new(file: &'a str, source: &'a str) -> Ctx<'a> {
        Ctx {
            base_dir: None,
            file,
            source,
            doc: std::cell::OnceCell::new(),
        }
    }

    /// Where the value at `path` starts; the nearest ancestor that exists if it does not.
    pub(super) fn locate(&self, path: &str) -> Location {
        use toml::de::DeValue;
        let doc = self
            .doc
            .get_or_init(|| toml::de::DeTable::parse(self.source).ok());
        let Some(doc) = doc else {
            return Location::default();
        };
        let mut span = None;
        let mut table = Some(doc.get_ref());
        let mut array: Option<&toml::de::DeArray> = None;
        for seg in segments(path) {
            let next = match (seg, table, array) {
                (Seg::Key(k), Some(t), _) => t
                    .iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k)
                    .map(|(_, v)| v),
                (Seg::Index(i), _, Some(a)) => a.get(i),
                _ => None,
            };
            let Some(value) = next else { break };
            span = Some(value.span());
            table = None;
            array = None;
            match value.get_ref() {
                DeValue::Table(t) => table = Some(t),
                DeValue::Array(a) => array = Some(a),
                _ => {}
            }
        }
        span.map_or_else(Location::default, |s| {
            Location::of_offset(self.source, s.start)
        })
    }

    pub(super) fn err(&self, path: &str, message: impl Into<String>) -> InputError {
        InputError::new(self.file, message)
            .at(self.locate(path))
            .field(path)
    }
}

pub(super) fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if x != 0.0 && (x.abs() >= 1e15 || x.abs() < 1e-6) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

pub(super) fn positive_finite(
    ctx: &Ctx,
    path: &str,
    x: f64,
    what: &str,
) -> Result<f64, InputError> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(ctx.err(
            path,
            format!(
                "value {} is not allowed: {what} must be a finite number > 0",
                fmt_num(x)
            ),
        ))
    }
}

pub(super) fn milli(ctx: &Ctx, path: &str, x: f64, what: &str) -> Result<Milli, InputError> {
    positive_finite(ctx, path, x, what)?;
    Milli::from_f64(x).filter(|m| !m.is_zero()).ok_or_else(|| {
        ctx.err(
            path,
            format!(
                "value {} is not allowed: {what} must be > 0 with at most 3 decimals",
                fmt_num(x)
            ),
        )
    })
}
