//! Trace replay: a request log (CSV, or JSON Lines as usage exports look) replayed row by row.
//!
//! The file is streamed: a reader holds one row at a time, so a 10-million-line trace runs in
//! the memory of a 10-line one. Validation reads the whole file once (every bad row is an error
//! naming the line, the column and the value, unless bad rows are skipped); the run reads it
//! again from the start.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Size;
use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};

/// The columns a trace may have (CSV headers, or JSON keys).
pub const COLUMNS: [&str; 10] = [
    "timestamp",
    "model",
    "stream",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "image_tokens",
    "images",
    "reasoning_tokens",
    "time",
];

// Indices into COLUMNS.
const MODEL: usize = 1;
const STREAM: usize = 2;
const PROMPT: usize = 3;
const COMPLETION: usize = 4;
const CACHED: usize = 5;
const IMAGE: usize = 6;
const IMAGES: usize = 7;
const REASONING: usize = 8;

/// Largest token count of one kind in one row.
const MAX_TOKENS: u64 = 1_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceFormat {
    Csv,
    Jsonl,
}

/// A validated trace and how to replay it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceSpec {
    pub file: PathBuf,
    pub format: TraceFormat,
    /// Replay this many times faster (a load multiplier scales it).
    pub time_scale: f64,
    /// The window of trace time replayed: `[start, end)`; replay time zero is `start`.
    pub start: SimDuration,
    pub end: Option<SimDuration>,
    /// Start over when the window (or the file) ends.
    #[serde(rename = "loop")]
    pub looped: bool,
    /// Skip rows that do not parse (counted) instead of refusing the file.
    pub skip_bad_rows: bool,
    /// Replay only the rows whose `model` (and `stream`) columns name this stream's model (and
    /// name), where the trace has those columns.
    pub model: String,
    pub stream: String,
    /// Tokens per image, when the trace gives `images` counts instead of `image_tokens`:
    /// the stream's `image_tokens` distribution's mean, rounded.
    pub tokens_per_image: Option<u64>,
    /// What validation found: rows replayed per pass, rows skipped, the window's length.
    pub rows: u64,
    pub skipped: u64,
    pub span: SimDuration,
    /// Mean tokens per replayed row (every kind that counts toward TPM).
    pub mean_tokens: f64,
}

impl TraceSpec {
    /// A whole trace, replayed as it is (no window, scale 1, no loop, every row), before the
    /// validation scan fills in what it found.
    pub fn new(file: PathBuf, format: TraceFormat) -> TraceSpec {
        TraceSpec {
            file,
            format,
            time_scale: 1.0,
            start: SimDuration::ZERO,
            end: None,
            looped: false,
            skip_bad_rows: false,
            model: String::new(),
            stream: String::new(),
            tokens_per_image: None,
            rows: 0,
            skipped: 0,
            span: SimDuration::ZERO,
            mean_tokens: 0.0,
        }
    }
}

/// One row of a trace, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// Trace time, nanoseconds from the trace's zero (seconds from the start, or the first
    /// RFC 3339 timestamp).
    pub time: u64,
    pub size: Size,
}

/// Why a row was refused: the line, the column and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

/// Reads a trace row by row.
pub struct TraceReader {
    file: File,
    /// Read in large chunks; the current line is `buf[cur.0..cur.1]`, the unread bytes
    /// `buf[pos..filled]`. Lines are parsed in place, never copied.
    cur: (usize, usize),
    pos: usize,
    filled: usize,
    eof: bool,
    format: TraceFormat,
    /// CSV: the index of each known column in the header, and the column of each cell.
    index: [Option<usize>; COLUMNS.len()],
    cell_column: Vec<Option<usize>>,
    line: u64,
    buf: Vec<u8>,
    /// RFC 3339 timestamps: the first one (unix ns), which is trace time zero.
    origin: Option<i128>,
    model: String,
    stream: String,
    tokens_per_image: Option<u64>,
}

impl TraceReader {
    /// Opens a trace and reads its header (CSV).
    pub fn open(spec: &TraceSpec) -> Result<TraceReader, RowError> {
        let file = File::open(&spec.file).map_err(|e| RowError {
            line: 0,
            column: String::new(),
            message: format!("cannot read the trace: {e}"),
        })?;
        // A buffer of 1 MiB, or the whole file when it is smaller (it grows for a longer line).
        let size = file.metadata().map_or(1 << 20, |m| {
            (m.len() as usize).saturating_add(1).clamp(4096, 1 << 20)
        });
        let mut r = TraceReader {
            file,
            cur: (0, 0),
            pos: 0,
            filled: 0,
            eof: false,
            format: spec.format,
            index: [None; COLUMNS.len()],
            cell_column: Vec::new(),
            line: 0,
            buf: vec![0; size],
            origin: None,
            model: spec.model.clone(),
            stream: spec.stream.clone(),
            tokens_per_image: spec.tokens_per_image,
        };
        if r.format == TraceFormat::Csv {
            if !r.read_line()? {
                return Err(r.error("", "the file is empty: a CSV trace starts with a header"));
            }
            let header: Vec<String> = split_csv(&r.buf[r.cur.0..r.cur.1])
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            for (i, name) in header.iter().enumerate() {
                match COLUMNS.iter().position(|c| c == name) {
                    Some(k) => r.index[k] = Some(i),
                    None => {
                        return Err(r.error(
                            name,
                            &format!(
                                "unknown column `{name}`; a trace has {}",
                                COLUMNS[..9].join(", ")
                            ),
                        ));
                    }
                }
            }
            if r.index[0].is_none() && r.index[9].is_some() {
                r.index[0] = r.index[9];
            }
            r.cell_column = (0..header.len())
                .map(|i| r.index.iter().position(|&x| x == Some(i)))
                .collect();
            for needed in ["timestamp", "prompt_tokens", "completion_tokens"] {
                if r.index[col(needed)].is_none() {
                    return Err(r.error(
                        needed,
                        &format!("the header has no `{needed}` column (needed: timestamp, prompt_tokens, completion_tokens)"),
                    ));
                }
            }
        }
        Ok(r)
    }

    fn error(&self, column: &str, message: &str) -> RowError {
        RowError {
            line: self.line,
            column: column.to_string(),
            message: message.to_string(),
        }
    }

    /// Finds the next non-empty line (`cur`); false at the end of the file.
    fn read_line(&mut self) -> Result<bool, RowError> {
        loop {
            let unread = &self.buf[self.pos..self.filled];
            let found = unread.iter().position(|&b| b == b'\n');
            let (start, mut end) = match found {
                Some(off) => (self.pos, self.pos + off),
                None if self.eof && self.pos < self.filled => (self.pos, self.filled),
                None if self.eof => return Ok(false),
                None => {
                    // Keep the partial line, make room, and read on.
                    self.buf.copy_within(self.pos..self.filled, 0);
                    self.filled -= self.pos;
                    self.pos = 0;
                    if self.filled == self.buf.len() {
                        let len = self.buf.len();
                        self.buf.resize(len * 2, 0);
                    }
                    let n = self
                        .file
                        .read(&mut self.buf[self.filled..])
                        .map_err(|e| RowError {
                            line: self.line + 1,
                            column: String::new(),
                            message: format!("cannot read: {e}"),
                        })?;
                    if n == 0 {
                        self.eof = true;
                    }
                    self.filled += n;
                    continue;
                }
            };
            self.pos = (end + 1).min(self.filled);
            self.line += 1;
            while end > start && matches!(self.buf[end - 1], b'\r' | b' ' | b'\t') {
                end -= 1;
            }
            if self.buf[start..end]
                .iter()
                .any(|b| !b.is_ascii_whitespace())
            {
                self.cur = (start, end);
                return Ok(true);
            }
        }
    }

    /// The next row this stream replays: `Ok(None)` at the end of the file, `Err` for a row
    /// that does not parse (the caller skips it or refuses the file). Rows of other models or
    /// streams are passed over.
    pub fn next_row(&mut self) -> Result<Option<Row>, RowError> {
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            match self.parse()? {
                Some(row) => return Ok(Some(row)),
                None => continue,
            }
        }
    }

    /// Parses the line just read; `None` for a row of another model or stream.
    fn parse(&mut self) -> Result<Option<Row>, RowError> {
        // The line is moved out while its cells are borrowed, and put back for the next read.
        let buf = std::mem::take(&mut self.buf);
        let row = self.parse_line(&buf[self.cur.0..self.cur.1]);
        self.buf = buf;
        row
    }

    /// The common case of a CSV row, in one pass and without a second look at any cell:
    /// `None` when anything is unusual (an RFC 3339 time, an `images` count, a bad value), and
    /// [`TraceReader::parse_line`] then parses it and says what is wrong.
    fn parse_csv_fast(&self, line: &[u8]) -> Option<Option<Row>> {
        let mut time = None;
        let mut n = [0u64; COLUMNS.len()];
        let mut seen = [false; COLUMNS.len()];
        let mut cell = 0;
        let mut start = 0;
        for i in 0..=line.len() {
            if i < line.len() && line[i] != b',' {
                continue;
            }
            if let Some(Some(k)) = self.cell_column.get(cell) {
                let c = unquote(&line[start..i]);
                if !c.is_empty() {
                    match *k {
                        0 | 9 => time = Some(exact_seconds(c)?),
                        MODEL => {
                            if !self.model.is_empty() && c != self.model.as_bytes() {
                                return Some(None);
                            }
                        }
                        STREAM => {
                            if !self.stream.is_empty() && c != self.stream.as_bytes() {
                                return Some(None);
                            }
                        }
                        IMAGES => return None,
                        k => {
                            n[k] = whole_number(c).filter(|&v| v <= MAX_TOKENS)?;
                            seen[k] = true;
                        }
                    }
                }
            }
            cell += 1;
            start = i + 1;
        }
        let (prompt, completion) = (n[PROMPT], n[COMPLETION]);
        let total = prompt + completion + n[IMAGE] + n[REASONING];
        if !seen[PROMPT] || !seen[COMPLETION] || n[CACHED] > prompt || total == 0 {
            return None;
        }
        let small = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
        Some(Some(Row {
            time: time?,
            size: Size {
                prompt,
                completion,
                image: small(n[IMAGE]),
                cached: small(n[CACHED]),
                reasoning: small(n[REASONING]),
                images: 0,
            },
        }))
    }

    fn parse_line(&mut self, line: &[u8]) -> Result<Option<Row>, RowError> {
        if self.format == TraceFormat::Csv
            && let Some(row) = self.parse_csv_fast(line)
        {
            return Ok(row);
        }
        // JSON values are owned; CSV cells are borrowed from the line (no allocation per row).
        let mut owned: [Option<String>; COLUMNS.len()];
        let mut fields: [Option<&[u8]>; COLUMNS.len()] = [None; COLUMNS.len()];
        match self.format {
            TraceFormat::Csv => {
                for (i, c) in split_csv(line).enumerate() {
                    if let Some(Some(k)) = self.cell_column.get(i)
                        && !c.is_empty()
                    {
                        fields[*k] = Some(c);
                    }
                }
            }
            TraceFormat::Jsonl => {
                owned = Default::default();
                let v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(line)
                    .map_err(|e| self.error("", &format!("not a JSON object: {e}")))?;
                for (key, value) in v {
                    let k = COLUMNS.iter().position(|c| *c == key).ok_or_else(|| {
                        self.error(
                            &key,
                            &format!(
                                "unknown key `{key}`; a trace has {}",
                                COLUMNS[..9].join(", ")
                            ),
                        )
                    })?;
                    owned[k] = match value {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) => Some(s),
                        serde_json::Value::Number(n) => Some(n.to_string()),
                        other => {
                            return Err(self.error(
                                &key,
                                &format!("value {other} is not allowed: a number or a string"),
                            ));
                        }
                    };
                }
                if owned[0].is_none() {
                    owned[0] = owned[9].take();
                }
                for (f, o) in fields.iter_mut().zip(&owned) {
                    *f = o.as_deref().map(str::as_bytes);
                }
            }
        }
        let text = |k: usize| fields[k];
        // An empty filter (as `fit` reads a trace) takes every row.
        if let Some(m) = text(MODEL)
            && !self.model.is_empty()
            && m != self.model.as_bytes()
        {
            return Ok(None);
        }
        if let Some(s) = text(STREAM)
            && !self.stream.is_empty()
            && s != self.stream.as_bytes()
        {
            return Ok(None);
        }
        let time_text = text(0)
            .ok_or_else(|| self.error("timestamp", "missing: each row needs a timestamp"))?;
        let time = self.parse_time(time_text)?;
        let count = |k: usize, required: bool| -> Result<u64, RowError> {
            let name = COLUMNS[k];
            match text(k) {
                None if required => Err(self.error(name, "missing: a whole number of tokens")),
                None => Ok(0),
                Some(v) => whole_number(v)
                    .or_else(|| {
                        // 12.0 from a JSON export is 12.
                        std::str::from_utf8(v)
                            .ok()?
                            .parse::<f64>()
                            .ok()
                            .filter(|x| x.fract() == 0.0 && *x >= 0.0)
                            .map(|x| x as u64)
                    })
                    .filter(|&n| n <= MAX_TOKENS)
                    .ok_or_else(|| {
                        self.error(
                            name,
                            &format!(
                                "value `{}` is not allowed: a whole number of tokens from 0 to {MAX_TOKENS}",
                                String::from_utf8_lossy(v)
                            ),
                        )
                    }),
            }
        };
        let prompt = count(PROMPT, true)?;
        let completion = count(COMPLETION, true)?;
        let cached = count(CACHED, false)?;
        if cached > prompt {
            return Err(self.error(
                "cached_tokens",
                &format!("value {cached} is more than prompt_tokens ({prompt}): cached tokens are a part of the prompt"),
            ));
        }
        let mut image = count(IMAGE, false)?;
        let images = count(IMAGES, false)?;
        if images > 0 {
            match self.tokens_per_image {
                Some(per) if text(IMAGE).is_none() => image = images * per,
                Some(_) => {}
                None => {
                    return Err(self.error(
                        "images",
                        "an images count needs the stream's image_tokens (tokens per image), or give image_tokens in the trace",
                    ));
                }
            }
        }
        let reasoning = count(REASONING, false)?;
        if prompt + completion + image + reasoning == 0 {
            return Err(self.error("prompt_tokens", "a request with no tokens at all"));
        }
        let small = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
        Ok(Some(Row {
            time,
            size: Size {
                prompt,
                completion,
                image: small(image),
                cached: small(cached),
                reasoning: small(reasoning),
                images: u16::try_from(images).unwrap_or(u16::MAX),
            },
        }))
    }

    /// Seconds from the start (`12.5`, exact to the nanosecond), or RFC 3339
    /// (`2026-11-26T10:00:00.5Z`), whose first value is time zero.
    fn parse_time(&mut self, bytes: &[u8]) -> Result<u64, RowError> {
        if let Some(ns) = exact_seconds(bytes) {
            return Ok(ns);
        }
        let text = String::from_utf8_lossy(bytes);
        let v = text.as_ref();
        match rfc3339_ns(v) {
            Some(abs) => {
                let origin = *self.origin.get_or_insert(abs);
                u64::try_from(abs - origin).map_err(|_| {
                    self.error(
                        "timestamp",
                        &format!("`{v}` is before the trace's first timestamp: rows must be in time order"),
                    )
                })
            }
            None => Err(self.error(
                "timestamp",
                &format!("`{v}` is not a timestamp: seconds from the start (e.g. 12.5) or RFC 3339 (e.g. 2026-11-26T10:00:00Z)"),
            )),
        }
    }
}

fn col(name: &str) -> usize {
    COLUMNS
        .iter()
        .position(|c| *c == name)
        .expect("a known column")
}

/// The cells of a CSV line (spaces and quotes around a cell dropped; no line breaks inside).
fn split_csv(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&b| b == b',').map(unquote)
}

/// A cell without the spaces and quotes around it.
fn unquote(c: &[u8]) -> &[u8] {
    let c = c.trim_ascii();
    let c = c.strip_prefix(b"\"").unwrap_or(c);
    c.strip_suffix(b"\"").unwrap_or(c)
}

/// A whole number of ASCII digits (no sign, at most 19 digits).
fn whole_number(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    Some(n)
}

/// `12.5` seconds as nanoseconds, exactly (at most 9 decimals).
fn exact_seconds(v: &[u8]) -> Option<u64> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, &v[v.len()..]),
    };
    if int.is_empty() && frac.is_empty() || frac.len() > 9 || int.len() > 11 {
        return None;
    }
    let whole = if int.is_empty() {
        0
    } else {
        whole_number(int)?
    };
    let mut ns = whole.checked_mul(NANOS_PER_SEC)?;
    let mut unit = NANOS_PER_SEC;
    for &d in frac {
        if !d.is_ascii_digit() {
            return None;
        }
        unit /= 10;
        ns = ns.checked_add(u64::from(d - b'0') * unit)?;
    }
    Some(ns)
}

/// RFC 3339 (`2026-11-26T10:00:00.123Z`, `...+02:00`) as nanoseconds since 1970.
fn rfc3339_ns(v: &str) -> Option<i128> {
    let b = v.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = v.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[13] != b':'
        || b[16] != b':'
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut frac_ns: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &v[start..i];
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        frac_ns = digits.parse::<i128>().ok()? * 10i128.pow(9 - digits.len() as u32);
    }
    let offset_s: i64 = match &v[i..] {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && matches!(&tz[..1], "+" | "-") && &tz[3..4] == ":" => {
            let h: i64 = tz[1..3].parse().ok()?;
            let m: i64 = tz[4..6].parse().ok()?;
            let s = h * 3600 + m * 60;
            if tz.starts_with('-') { -s } else { s }
        }
        _ => return None,
    };
    // Days since 1970-01-01 of a proleptic Gregorian date.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Some(i128::from(secs) * 1_000_000_000 + frac_ns)
}

/// What a full read of a trace found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    pub rows: u64,
    pub skipped: u64,
    /// Tokens of the replayed rows, every kind that counts toward TPM.
    pub tokens: u128,
    /// The last replayed row's trace time.
    pub last: u64,
}

/// Reads a whole trace as a stream replays it: every row checked, in time order.
pub fn scan(spec: &TraceSpec) -> Result<Scan, RowError> {
    let mut r = TraceReader::open(spec)?;
    let mut out = Scan::default();
    let mut previous: Option<u64> = None;
    loop {
        match r.next_row() {
            Ok(Some(row)) => {
                if let Some(p) = previous
                    && row.time < p
                {
                    let e = r.error(
                        "timestamp",
                        &format!(
                            "this row's time ({} s) is earlier than the one before ({} s): a trace must be in time order",
                            crate::time::fmt_secs_exact(row.time),
                            crate::time::fmt_secs_exact(p)
                        ),
                    );
                    if spec.skip_bad_rows {
                        out.skipped += 1;
                        continue;
                    }
                    return Err(e);
                }
                previous = Some(row.time);
                if row.time >= spec.start.0 && spec.end.is_none_or(|e| row.time < e.0) {
                    out.rows += 1;
                    out.last = row.time;
                    out.tokens += u128::from(row.size.total());
                }
            }
            Ok(None) => return Ok(out),
            Err(e) if spec.skip_bad_rows && e.line > 0 && !e.message.starts_with("cannot") => {
                out.skipped += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The replay of one stream: rows in the window, scaled in time, looping if asked.
pub struct Replay {
    spec: TraceSpec,
    reader: Option<TraceReader>,
    /// Replay time added to this pass's rows (the loop count times the period).
    offset: u64,
    /// Rows replayed in this pass, so that an empty pass ends a loop.
    in_pass: u64,
    last: u64,
}

impl Replay {
    pub fn new(spec: &TraceSpec) -> Replay {
        Replay {
            reader: TraceReader::open(spec).ok(),
            spec: spec.clone(),
            offset: 0,
            in_pass: 0,
            last: 0,
        }
    }

    /// Replay time of trace time `t` in the current pass.
    fn replay_time(&self, t: u64) -> u64 {
        let since = t - self.spec.start.0;
        let rel = if self.spec.time_scale == 1.0 {
            since
        } else {
            (since as f64 / self.spec.time_scale).round() as u64
        };
        self.offset.saturating_add(rel)
    }

    /// The next request: its replay time (from the stream's start) and its sizes. A run reads
    /// a trace validation has read already; a row that fails now (the file changed) is passed
    /// over, and a file that cannot be read ends the replay.
    pub fn next_request(&mut self) -> Option<(SimTime, Size)> {
        loop {
            let reader = self.reader.as_mut()?;
            match reader.next_row() {
                Ok(Some(row)) => {
                    if row.time < self.spec.start.0 {
                        continue;
                    }
                    if self.spec.end.is_some_and(|e| row.time >= e.0) {
                        if !self.restart() {
                            return None;
                        }
                        continue;
                    }
                    self.in_pass += 1;
                    let t = self.replay_time(row.time).max(self.last);
                    self.last = t;
                    return Some((SimTime(t), row.size));
                }
                Ok(None) => {
                    if !self.restart() {
                        return None;
                    }
                }
                Err(_) => continue,
            }
        }
    }

    /// Starts the next pass of a loop; false when the replay is over.
    fn restart(&mut self) -> bool {
        if !self.spec.looped || self.in_pass == 0 {
            self.reader = None;
            return false;
        }
        let period = (self.spec.span.0 as f64 / self.spec.time_scale).round() as u64;
        self.offset = self.offset.saturating_add(period.max(1));
        self.in_pass = 0;
        self.reader = TraceReader::open(&self.spec).ok();
        self.reader.is_some()
    }
}

/// The trace format of a file, from its name: `.csv`, or `.jsonl` / `.ndjson`.
pub fn format_of(path: &Path) -> Option<TraceFormat> {
    match path.extension()?.to_str()? {
        "csv" => Some(TraceFormat::Csv),
        "jsonl" | "ndjson" => Some(TraceFormat::Jsonl),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_exactly() {
        assert_eq!(exact_seconds(b"12.5"), Some(12_500_000_000));
        assert_eq!(exact_seconds(b"0.000000001"), Some(1));
        assert_eq!(exact_seconds(b"1e3"), None);
        assert_eq!(exact_seconds(b"-1"), None);
        let a = rfc3339_ns("2026-11-26T10:00:00Z").unwrap();
        let b = rfc3339_ns("2026-11-26T11:00:00.25+01:00").unwrap();
        assert_eq!(b - a, 250_000_000);
        // 1970-01-01 is day zero; 2000-03-01 is day 11,017.
        assert_eq!(rfc3339_ns("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_ns("2000-03-01T00:00:00Z"),
            Some(11_017 * 86_400 * 1_000_000_000)
        );
        assert_eq!(rfc3339_ns("2026-13-01T00:00:00Z"), None);
    }
}
