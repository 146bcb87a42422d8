//! Simulated time: integer nanoseconds, so ties are exact and no epsilon is ever needed.
//!
//! `SimTime` is an instant since the start of a run; `SimDuration` is a span. Both are `u64`
//! nanoseconds, which covers about 584 years of simulated time.

use std::fmt;

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant of simulated time, in nanoseconds since the run started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        u64_to_f64(self.0) / NANOS_PER_SEC as f64
    }

    /// `self + d`, saturating at the end of representable time.
    pub fn after(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// Time elapsed since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// Whole seconds since the start (the index of its one-second bucket).
    pub fn whole_secs(self) -> u64 {
        self.0 / NANOS_PER_SEC
    }
}

/// `x as f64`, by the one-instruction signed conversion when `x` is below 2^63 (the same
/// value: both round to nearest, ties to even).
#[inline]
pub fn u64_to_f64(x: u64) -> f64 {
    if x >> 63 == 0 {
        x as i64 as f64
    } else {
        x as f64
    }
}

/// `x.round()` saturated to `u64` for any `x` (negative and NaN give 0), as
/// `x.round().clamp(0.0, u64::MAX as f64) as u64` gives it, without a call to libm.
#[inline]
pub fn round_to_u64(x: f64) -> u64 {
    if x > 0.0 { round_non_negative(x) } else { 0 }
}

/// `x.round()` saturated to `u64`, for `x > 0` (or +inf), without a call to libm: below 2^53
/// the fraction `x - trunc(x)` is exact (Sterbenz), so the result is the same, half away from
/// zero; from 2^53 on every `f64` is an integer already.
#[inline]
fn round_non_negative(x: f64) -> u64 {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if x < EXACT {
        // Below 2^53 the signed conversions are exact and give what the unsigned ones give,
        // in one instruction each instead of a sequence.
        let r = x as i64;
        // Without a branch: the fraction of a random delay is not predictable.
        (r + i64::from(x - r as f64 >= 0.5)) as u64
    } else {
        // `as` saturates at u64::MAX, as `.round().min(u64::MAX as f64) as u64` did.
        x as u64
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * NANOS_PER_SEC)
    }

    pub fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms * 1_000_000)
    }

    /// Converts seconds to nanoseconds, rounding to the nearest nanosecond. Values past the
    /// end of representable time (including +inf) saturate; negative values and NaN become
    /// zero (callers validate before converting).
    pub fn from_secs_f64(s: f64) -> SimDuration {
        SimDuration(round_to_u64(s * NANOS_PER_SEC as f64))
    }

    pub fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        u64_to_f64(self.0) / NANOS_PER_SEC as f64
    }

    /// The smallest multiple of `step` that is `>= self` (a zero step leaves `self` as it is).
    pub fn round_up_to(self, step: SimDuration) -> SimDuration {
        if step.0 <= 1 {
            return self;
        }
        SimDuration(self.0.div_ceil(step.0).saturating_mul(step.0))
    }
}

/// Seconds with nine decimals, exact (no float formatting): `1.500000000`.
pub fn fmt_secs_exact(nanos: u64) -> String {
    format!("{}.{:09}", nanos / NANOS_PER_SEC, nanos % NANOS_PER_SEC)
}

impl fmt::Display for SimDuration {
    /// Shortest readable form that round-trips through [`parse_duration`]: `90s`, `1h`, `250ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS {
            if n.is_multiple_of(size) {
                return write!(f, "{}{}", n / size, unit);
            }
        }
        unreachable!("every integer is a multiple of 1 ns")
    }
}

impl serde::Serialize for SimDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(pub String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const DURATION_HELP: &str = "expected a number with a unit (d, h, m, s, ms, us, ns), or several of them from the largest unit down, each at most once, e.g. \"90s\", \"15m\", \"1h30m\", \"0.25s\", \"250ms\"";

/// The units a duration may use, largest first.
const UNITS: [(&str, u64); 7] = [
    ("d", 86_400 * NANOS_PER_SEC),
    ("h", 3_600 * NANOS_PER_SEC),
    ("m", 60 * NANOS_PER_SEC),
    ("s", NANOS_PER_SEC),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

/// Parses durations such as `90s`, `15m`, `1h`, `1h30m`, `0.5s`, `250ms`, exactly (no float
/// rounding: `0.1s` is 100 000 000 ns). Several parts must go from the largest unit down, each
/// unit at most once (`1h30m`, not `30m1h` or `1h1h`).
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(DurationError(format!("empty duration: {DURATION_HELP}")));
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total: u64 = 0;
    // Index into UNITS of the previous part's unit: the next must be smaller.
    let mut previous: Option<usize> = None;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let number = &s[start..i];
        let unit_start = i;
        while i < bytes.len() && !(bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let unit = &s[unit_start..i];
        if number.is_empty() || unit.is_empty() {
            return Err(DurationError(format!("`{text}`: {DURATION_HELP}")));
        }
        let Some(index) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(DurationError(format!(
                "`{text}`: unknown unit `{unit}`; {DURATION_HELP}"
            )));
        };
        if let Some(p) = previous
            && index <= p
        {
            let problem = if index == p {
                format!("`{unit}` is given twice")
            } else {
                format!("`{unit}` comes after `{}`", UNITS[p].0)
            };
            return Err(DurationError(format!(
                "`{text}`: {problem}; {DURATION_HELP}"
            )));
        }
        previous = Some(index);
        let too_long = || {
            DurationError(format!(
                "`{text}` is too long: durations go up to about 584 years (\"5124095h\")"
            ))
        };
        let part = scaled_decimal(number, UNITS[index].1).map_err(|overflow| {
            if overflow {
                too_long()
            } else {
                DurationError(format!("`{text}`: {DURATION_HELP}"))
            }
        })?;
        total = total.checked_add(part).ok_or_else(too_long)?;
    }
    Ok(SimDuration(total))
}

/// `number * scale` for a decimal string, exact. `Err(true)` if it overflows, `Err(false)` if
/// it is malformed or has more precision than a nanosecond.
fn scaled_decimal(number: &str, scale: u64) -> Result<u64, bool> {
    let (int_part, frac_part) = match number.split_once('.') {
        Some((a, b)) => (a, b),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
        return Err(false);
    }
    let int: u64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| true)?
    };
    let mut value = int.checked_mul(scale).ok_or(true)?;
    let mut unit = scale;
    for digit in frac_part.bytes() {
        if !unit.is_multiple_of(10) {
            return Err(false); // finer than one nanosecond
        }
        unit /= 10;
        value = value
            .checked_add(u64::from(digit - b'0') * unit)
            .ok_or(true)?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fast_rounding_agrees_with_round_everywhere() {
        use rand::{Rng, RngExt, SeedableRng};
        let mut r = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(5);
        let edge = [
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            4503599627370495.5,
            9007199254740991.0,
            9007199254740992.0,
            1.8446744073709552e19,
            3e19,
            f64::INFINITY,
            1e-300,
        ];
        let mut xs: Vec<f64> = edge.to_vec();
        for _ in 0..200_000 {
            let bits = r.next_u64() >> 2; // positive, finite doubles of every magnitude
            let x = f64::from_bits(bits);
            if x.is_finite() && x > 0.0 {
                xs.push(x);
            }
            xs.push(r.random::<f64>() * 1e12);
        }
        for x in xs {
            assert_eq!(
                round_non_negative(x),
                x.round().min(u64::MAX as f64) as u64,
                "{x}"
            );
            for y in [x, -x] {
                assert_eq!(
                    round_to_u64(y),
                    y.round().clamp(0.0, u64::MAX as f64) as u64
                );
            }
        }
        for y in [f64::NAN, -0.0, -0.5, -f64::INFINITY, 0.49999999999999994] {
            assert_eq!(
                round_to_u64(y),
                y.round().clamp(0.0, u64::MAX as f64) as u64
            );
        }
    }

    #[test]
    fn fast_conversion_agrees_with_as_everywhere() {
        use rand::{Rng, SeedableRng};
        let mut r = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(6);
        let mut xs = vec![
            0,
            1,
            (1 << 53) + 1,
            (1 << 63) - 1,
            1 << 63,
            (1 << 63) + 1,
            u64::MAX,
        ];
        for _ in 0..200_000 {
            // Every magnitude, rounding cases included.
            xs.push(r.next_u64() >> (r.next_u32() % 64));
        }
        for x in xs {
            assert_eq!(u64_to_f64(x).to_bits(), (x as f64).to_bits(), "{x}");
        }
    }

    use super::*;

    #[test]
    fn parses_units_and_compounds_exactly() {
        assert_eq!(parse_duration("90s").unwrap(), SimDuration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), SimDuration::from_secs(900));
        assert_eq!(parse_duration("1h").unwrap(), SimDuration::from_secs(3600));
        assert_eq!(
            parse_duration("1h30m").unwrap(),
            SimDuration::from_secs(5400)
        );
        assert_eq!(parse_duration("0.1s").unwrap(), SimDuration(100_000_000));
        assert_eq!(
            parse_duration("250ms").unwrap(),
            SimDuration::from_millis(250)
        );
        assert_eq!(parse_duration(".5s").unwrap(), SimDuration(500_000_000));
        assert_eq!(
            parse_duration("1h2m3s4ms5us6ns").unwrap(),
            SimDuration(3_723_004_005_006)
        );
    }

    #[test]
    fn refuses_malformed_durations() {
        for bad in [
            "",
            "90",
            "s",
            "1x",
            "1.2.3s",
            "-5s",
            "0.0000000001s",
            "1e3s",
            "1h1h",
            "250ms10s",
            "30m1h",
            "5min",
            "90sec",
            "1 h",
            "2µs",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn overlong_durations_say_so() {
        let e = parse_duration("99999999999999h").unwrap_err();
        assert!(e.0.contains("too long"), "{e}");
        assert_eq!(
            SimDuration::from_secs_f64(f64::INFINITY),
            SimDuration(u64::MAX)
        );
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration(0));
    }

    #[test]
    fn display_round_trips() {
        for d in [
            0,
            1,
            1_500,
            2_000_000,
            90 * NANOS_PER_SEC,
            3_600 * NANOS_PER_SEC + 1,
        ] {
            let d = SimDuration(d);
            assert_eq!(parse_duration(&d.to_string()).unwrap(), d);
        }
        assert_eq!(SimDuration::from_secs(5400).to_string(), "90m");
    }

    #[test]
    fn round_up_to_granularity() {
        let ms = SimDuration::from_millis(1);
        assert_eq!(SimDuration(1).round_up_to(ms), ms);
        assert_eq!(SimDuration(1_000_000).round_up_to(ms), ms);
        assert_eq!(
            SimDuration(1_000_001).round_up_to(ms),
            SimDuration(2_000_000)
        );
        assert_eq!(SimDuration(7).round_up_to(SimDuration(1)), SimDuration(7));
    }

    #[test]
    fn exact_seconds_format() {
        assert_eq!(fmt_secs_exact(1_500_000_000), "1.500000000");
        assert_eq!(fmt_secs_exact(7), "0.000000007");
    }
}
