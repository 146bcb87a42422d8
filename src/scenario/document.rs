//! The scenario document: parsed once, edited per sweep point (`Edit`), resolved into a
//! validated `Scenario`; the catalogs a document reads are cached.

use super::*;

/// A change to a scenario document before validation (one value of a sweep axis).
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Use this tier.
    Tier(String),
    /// Replace the `[client]` table: a preset name, or a whole client table.
    Client(toml::Value),
    /// Set the value at a dotted path such as `traffic[0].arrivals.rate_per_sec`.
    Set { path: String, value: toml::Value },
}

/// A scenario file parsed (every key and type checked) but not yet validated, so that sweeps
/// can edit it and validate each variant.
#[derive(Clone, Debug)]
pub struct Document {
    pub file: String,
    /// The file's text.
    pub source: String,
    pub(super) base_dir: Option<PathBuf>,
    /// The scenario without its `[sweep]` section (which each variant does not need, and
    /// which can hold 100,000 values).
    pub(super) table: toml::Table,
    /// The `[sweep]` section, if any.
    pub sweep: Option<SweepSpec>,
    /// Catalogs read from the limits and tiers files, so that the grid points of a sweep do
    /// not read and parse them again.
    pub(super) catalogs: CatalogCache,
}

/// Catalogs by (provider, version, limits file, tiers file), shared by every variant of a
/// document.
#[derive(Clone, Debug, Default)]
pub(super) struct CatalogCache(std::sync::Arc<std::sync::Mutex<Vec<CachedCatalog>>>);

pub(super) type CachedCatalog = (
    (String, String, Option<PathBuf>, Option<PathBuf>),
    std::sync::Arc<Catalog>,
);

impl CatalogCache {
    /// The catalog for these files, read once; an error is not kept (it ends the command).
    pub(super) fn get(
        &self,
        (provider, version): (&str, &str),
        limits: Option<&Path>,
        tiers: Option<&Path>,
        read: impl FnOnce() -> Result<Catalog, InputError>,
    ) -> Result<std::sync::Arc<Catalog>, InputError> {
        let key = (
            provider.to_string(),
            version.to_string(),
            limits.map(Path::to_path_buf),
            tiers.map(Path::to_path_buf),
        );
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = cache.iter().find(|(k, _)| *k == key) {
            return Ok(c.clone());
        }
        let c = std::sync::Arc::new(read()?);
        cache.push((key, c.clone()));
        Ok(c)
    }
}

impl Document {
    pub fn load(path: &Path) -> Result<Document, InputError> {
        let file = path.display().to_string();
        let source = crate::input::read_text(path, "scenario file", crate::input::MAX_INPUT_BYTES)?;
        Document::parse(&source, &file, path.parent())
    }

    pub fn parse(
        source: &str,
        file: &str,
        base_dir: Option<&Path>,
    ) -> Result<Document, InputError> {
        let spanned = |e: toml::de::Error| {
            let mut message = e.message().trim_end().to_string();
            if message == "duplicate key"
                && let Some(span) = e.span()
            {
                let key: String = source[span.start..]
                    .chars()
                    .take_while(|c| !matches!(c, '=' | ']' | '\n'))
                    .collect();
                message = format!("duplicate key `{}`: each key may appear once", key.trim());
            }
            let field = e.span().and_then(|span| field_at(source, span.start));
            let message = plain_message(&message, field.as_deref());
            let mut err = InputError::new(file, message);
            if let Some(f) = field {
                err = err.field(f);
            }
            match e.span() {
                Some(span) => err.at(Location::of_offset(source, span.start)),
                None => err,
            }
        };
        // Deserialising into the raw types once reports unknown keys and wrong types with spans.
        let raw: RawScenario = toml::from_str(source).map_err(spanned)?;
        let mut table: toml::Table = toml::from_str(source).map_err(spanned)?;
        table.remove("sweep");
        let ctx = Ctx::new(file, source);
        let sweep = match &raw.sweep {
            Some(s) => Some(validate_sweep(s, &ctx)?),
            None => None,
        };
        Ok(Document {
            file: file.to_string(),
            source: source.to_string(),
            base_dir: base_dir.map(Path::to_path_buf),
            table,
            sweep,
            catalogs: CatalogCache::default(),
        })
    }

    /// Applies `edits` and `overrides`, then validates into a runnable scenario, with the
    /// warnings (which sample request sizes, so cost about half a millisecond).
    pub fn resolve(
        &self,
        overrides: &Overrides,
        edits: &[Edit],
    ) -> Result<(Scenario, Vec<Warning>), InputError> {
        self.resolve_with(overrides, edits, true)
    }

    /// [`Document::resolve`] without the warnings: for the many variants of a sweep or plan,
    /// whose base scenario has been resolved (and warned about) already.
    pub fn variant(&self, overrides: &Overrides, edits: &[Edit]) -> Result<Scenario, InputError> {
        self.resolve_with(overrides, edits, false).map(|(s, _)| s)
    }

    fn resolve_with(
        &self,
        overrides: &Overrides,
        edits: &[Edit],
        warn: bool,
    ) -> Result<(Scenario, Vec<Warning>), InputError> {
        let mut table = self.table.clone();
        for edit in edits {
            apply_edit(&mut table, edit).map_err(|m| InputError::new(&self.file, m))?;
        }
        let mut raw: RawScenario = toml::Value::Table(table)
            .try_into()
            .map_err(|e| InputError::new(&self.file, e.message().trim_end().to_string()))?;
        if let Some(seed) = overrides.seed {
            raw.seed = seed;
        }
        if let Some(d) = overrides.duration {
            raw.duration = Some(Dur(d));
        }
        let mut ctx = Ctx::new(&self.file, &self.source);
        ctx.base_dir = self.base_dir.as_deref();
        validate(raw, &ctx, self.base_dir.as_deref(), &self.catalogs, warn).map_err(|e| {
            // A value given on the command line is not the file's fault.
            if overrides.duration.is_some() && e.field.as_deref() == Some("duration") {
                InputError::new("--duration", e.message)
            } else if let Some(d) = overrides.duration
                && e.field.as_deref() == Some("warmup")
            {
                InputError::new(
                    "--duration",
                    format!(
                        "\"{d}\" is not allowed: the duration must be longer than the scenario's warmup ({} in {})",
                        e.message
                            .split('"')
                            .nth(1)
                            .unwrap_or("its warmup"),
                        self.file
                    ),
                )
            } else {
                e
            }
        })
    }

    /// Where the value at a dotted path starts in the file (or its nearest ancestor).
    pub fn locate(&self, path: &str) -> Location {
        Ctx::new(&self.file, &self.source).locate(path)
    }

    /// The value at a dotted path, if present (for labels and checks).
    pub fn get(&self, path: &str) -> Option<&toml::Value> {
        let mut cur: Option<&toml::Value> = None;
        for (i, seg) in segments(path).into_iter().enumerate() {
            cur = match (seg, cur) {
                (Seg::Key(k), None) if i == 0 => self.table.get(k),
                (Seg::Key(k), Some(toml::Value::Table(t))) => t.get(k),
                (Seg::Index(n), Some(toml::Value::Array(a))) => a.get(n),
                _ => None,
            };
            cur?;
        }
        cur
    }
}

impl Document {
    /// The table of the `[[clients]]` entry named `name`, without its name: what `--by
    /// client=NAME` puts in place of the default `[client]`.
    pub fn named_client(&self, name: &str) -> Option<toml::Value> {
        let list = self.table.get("clients")?.as_array()?;
        let t = list
            .iter()
            .filter_map(toml::Value::as_table)
            .find(|t| t.get("name").and_then(toml::Value::as_str) == Some(name))?;
        let mut t = t.clone();
        t.remove("name");
        Some(toml::Value::Table(t))
    }
}

pub(super) fn apply_edit(table: &mut toml::Table, edit: &Edit) -> Result<(), String> {
    match edit {
        Edit::Tier(t) => {
            table.insert("tier".into(), toml::Value::String(t.clone()));
        }
        Edit::Client(v) => {
            let client = match v {
                toml::Value::String(name) => {
                    let mut t = toml::Table::new();
                    t.insert("preset".into(), toml::Value::String(name.clone()));
                    toml::Value::Table(t)
                }
                other => other.clone(),
            };
            table.insert("client".into(), client);
        }
        Edit::Set { path, value } => set_path(table, path, value.clone())?,
    }
    Ok(())
}

/// Sets `path` to `value`, creating missing tables on the way; array indices must exist.
pub(super) fn set_path(
    table: &mut toml::Table,
    path: &str,
    value: toml::Value,
) -> Result<(), String> {
    let segs = segments(path);
    let last = segs.len() - 1;
    let mut cur: &mut toml::Value = table
        .entry(match segs[0] {
            Seg::Key(k) => k.to_string(),
            Seg::Index(_) => return Err(format!("path `{path}` must start with a key")),
        })
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if last == 0 {
        *cur = value;
        return Ok(());
    }
    for (i, seg) in segs.into_iter().enumerate().skip(1) {
        cur = match (seg, cur) {
            (Seg::Key(k), toml::Value::Table(t)) => t
                .entry(k.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new())),
            (Seg::Index(n), toml::Value::Array(a)) => {
                let len = a.len();
                a.get_mut(n).ok_or_else(|| {
                    format!(
                        "path `{path}`: index {n} is out of range (the array has {len} entries)"
                    )
                })?
            }
            _ => {
                return Err(format!(
                    "path `{path}` does not lead to a value of the scenario"
                ));
            }
        };
        if i == last {
            *cur = value;
            return Ok(());
        }
    }
    Ok(())
}
