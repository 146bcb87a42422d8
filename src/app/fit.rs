//! `ratesim fit`: a scenario that reproduces a trace synthetically, with how well it fits.

use std::fmt::Write as _;
use std::io::Write;

use super::*;
use crate::time::SimDuration;
use crate::workload::TokenDist;
use crate::workload::fit::{Kind, fit as fit_trace, quantile};
use crate::workload::trace::{TraceSpec, format_of};

pub(super) fn fit(args: &FitArgs, out: &mut dyn Write) -> Result<()> {
    let name = args.trace.display().to_string();
    let format = format_of(&args.trace).ok_or_else(|| {
        Error::Input(InputError::new(
            &name,
            "a trace is a .csv file, or JSON Lines (.jsonl or .ndjson)",
        ))
    })?;
    let catalog = Catalog::embedded();
    let model = match &args.model {
        Some(m) => m.clone(),
        None => catalog
            .models()
            .first()
            .map(|m| m.to_string())
            .unwrap_or_default(),
    };
    if let Some(out) = &args.out {
        report::check_output_file(out, "--out")?;
    }
    let spec = TraceSpec::new(args.trace.clone(), format);
    let f = fit_trace(&spec, args.bin).map_err(|e| {
        let mut err = InputError::new(&name, e.message);
        if e.line > 0 {
            err = err.at(crate::error::Location::line(e.line as usize));
        }
        if !e.column.is_empty() {
            err = err.field(e.column);
        }
        Error::Input(err)
    })?;
    if f.rows == 0 {
        return Err(Error::Input(InputError::new(
            &name,
            "the trace has no rows",
        )));
    }
    let mut s = String::new();
    let span = SimDuration(f.bin.0 * f.counts.len() as u64);
    let _ = writeln!(
        s,
        "# Fitted by `ratesim fit` (ratesim {}) from {name}: {} rows over {span}.",
        env!("CARGO_PKG_VERSION"),
        f.rows
    );
    let _ = writeln!(
        s,
        "#\n# Arrivals: a profile (non-homogeneous Poisson) through each {} bin's rate, rows / bin\n# length, at the bin's middle. Rows per bin, trace against the fitted profile's integral:\n#",
        f.bin
    );
    let _ = writeln!(s, "#   {:>10} {:>9} {:>11}", "bin start", "trace", "fit");
    let fitted = f.fitted_counts();
    let mut chi2 = 0.0;
    for (i, (c, e)) in f.counts.iter().zip(&fitted).enumerate() {
        let _ = writeln!(
            s,
            "#   {:>10} {:>9} {:>11.1}",
            SimDuration(f.bin.0 * i as u64).to_string(),
            c,
            e
        );
        if *e > 0.0 {
            chi2 += (*c as f64 - e).powi(2) / e;
        }
    }
    let _ = writeln!(
        s,
        "#   (sum of (trace - fit)^2 / fit over the bins: {chi2:.1}, for {} bins)",
        f.counts.len()
    );
    let _ = writeln!(
        s,
        "#\n# Tokens: log-normal with the trace's mean and standard deviation (constant when every row\n# has the same count). Trace against fit, over the rows that have the kind:\n#"
    );
    let _ = writeln!(
        s,
        "#   {:<18} {:>9} {:>19} {:>17} {:>17} {:>17}",
        "kind", "rows", "mean", "p50", "p90", "p99"
    );
    let mut report = |label: &str, k: &Kind, d: Option<&TokenDist>| {
        let (Some((mean, _)), Some(d)) = (k.moments(), d) else {
            return;
        };
        let q = |p: f64| k.quantiles.quantile(p).unwrap_or(0) as f64;
        let _ = writeln!(
            s,
            "#   {label:<18} {:>9} {:>9.0} / {:<7.0} {:>7.0} / {:<7.0} {:>7.0} / {:<7.0} {:>7.0} / {:.0}",
            k.nonzero,
            mean,
            d.mean(),
            q(0.5),
            quantile(d, 0.5),
            q(0.9),
            quantile(d, 0.9),
            q(0.99),
            quantile(d, 0.99)
        );
    };
    let prompt = f.prompt.fitted();
    let completion = f.completion.fitted();
    let image = f.image.fitted();
    let reasoning = f.reasoning.fitted();
    report("prompt_tokens", &f.prompt, prompt.as_ref());
    report("completion_tokens", &f.completion, completion.as_ref());
    report("image_tokens", &f.image, image.as_ref());
    report("reasoning_tokens", &f.reasoning, reasoning.as_ref());
    let share = |k: &Kind| 100.0 * k.nonzero as f64 / f.rows as f64;
    let mut caveats = Vec::new();
    for (label, k) in [("image", &f.image), ("reasoning", &f.reasoning)] {
        if k.nonzero > 0 && k.nonzero < f.rows {
            caveats.push(format!(
                "# {label} tokens are in {:.1}% of the rows; ratesim draws every kind for every request, so the\n# fit gives every request the {label} tokens of the rows that have them, scaled by that share\n# (the same total toward TPM).",
                share(k)
            ));
        }
    }
    for c in &caveats {
        let _ = writeln!(s, "#\n{c}");
    }
    let stem = args
        .trace
        .file_stem()
        .map(|x| x.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trace".into());
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let _ = writeln!(
        s,
        "\nname = \"fitted-{safe}\"\ndescription = \"Fitted to {} ({} rows)\"\nseed = 1\nduration = \"{span}\"\ntier = 0\n\n[[traffic]]\nname = \"fitted\"\nmodel = \"{model}\"",
        name.replace('\\', "/").replace('"', "'"),
        f.rows
    );
    let points: Vec<String> = f
        .profile_points()
        .iter()
        .map(|(t, r)| {
            format!(
                "[\"{t}\", {}]",
                crate::sweep::fmt_f64((r * 1e6).round() / 1e6)
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "arrivals = {{ process = \"profile\", points = [\n  {},\n] }}",
        points.join(", ")
    );
    let dist = |d: &TokenDist| match *d {
        TokenDist::Constant { value } => format!("{{ dist = \"constant\", value = {value} }}"),
        TokenDist::Lognormal { mean, std } => format!(
            "{{ dist = \"lognormal\", mean = {}, std = {} }}",
            crate::sweep::fmt_f64(mean.round()),
            crate::sweep::fmt_f64(std.round())
        ),
        _ => unreachable!("fits are constant or log-normal"),
    };
    // Scales a kind present in some rows only, keeping its total.
    let scaled = |k: &Kind, d: &TokenDist| -> TokenDist {
        let p = k.nonzero as f64 / f.rows as f64;
        match *d {
            _ if p >= 1.0 => d.clone(),
            TokenDist::Constant { value } => TokenDist::Constant {
                value: ((value as f64 * p).round() as u64).max(1),
            },
            TokenDist::Lognormal { mean, std } => TokenDist::Lognormal {
                mean: (mean * p).max(1.0),
                std: std * p,
            },
            ref other => other.clone(),
        }
    };
    if let Some(d) = &prompt {
        let _ = writeln!(s, "prompt_tokens = {}", dist(d));
    }
    if let Some(d) = &completion {
        let _ = writeln!(s, "completion_tokens = {}", dist(d));
    }
    if f.cached_total > 0 && f.prompt_total > 0 {
        let _ = writeln!(
            s,
            "cached_share = {:.3}",
            f.cached_total as f64 / f.prompt_total as f64
        );
    }
    if let Some(d) = &image {
        let _ = writeln!(
            s,
            "images = {{ dist = \"constant\", value = 1 }}\nimage_tokens = {}",
            dist(&scaled(&f.image, d))
        );
    }
    if let Some(d) = &reasoning {
        let _ = writeln!(s, "reasoning_tokens = {}", dist(&scaled(&f.reasoning, d)));
    }
    // The result must be a scenario ratesim accepts.
    crate::scenario::parse(&s, "fitted.toml", None, &Default::default()).map_err(|e| {
        Error::io(
            std::path::Path::new("<fit>"),
            std::io::Error::other(format!("the fitted scenario does not validate: {e}")),
        )
    })?;
    match &args.out {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "fitted.toml".into());
            report::write_all(dir, &[(file, s.into_bytes())])?;
            eprintln!("wrote {}", path.display());
            Ok(())
        }
        None => emit(out, &s),
    }
}
