//! Prices, accounts and tier progression, against results computed by hand.

use ratesim::report::summarize;

use super::*;

fn summary_of(toml: &str) -> ratesim::report::summary::Summary {
    let s = scenario(toml);
    let (rec, outcome) = ratesim::simulate(&s);
    summarize(&s, &rec, &outcome)
}

fn nano(usd: &str) -> u64 {
    let (i, f) = usd.split_once('.').unwrap();
    i.parse::<u64>().unwrap() * 1_000_000_000 + format!("{f:0<9}")[..9].parse::<u64>().unwrap()
}

#[test]
fn every_token_kind_costs_what_the_price_table_says_and_a_429_costs_nothing() {
    // 20 req/s against tier 0's 30 RPS... then 60 req/s for the second minute: some requests
    // get 429s and some give up; only successes are billed, each exactly once.
    let toml = r#"
name = "cost"
seed = 3
duration = "2m"
tier = 0

[client]
preset = "openai-python"

[[traffic]]
model = "grok-4.3"
arrivals = { process = "constant", rate_per_sec = 45 }
prompt_tokens = { dist = "constant", value = 10000 }
completion_tokens = { dist = "constant", value = 500 }
images = { dist = "constant", value = 2 }
image_tokens = { dist = "constant", value = 1000 }
cached_share = 0.4
reasoning_tokens = { dist = "constant", value = 3000 }
"#;
    let s = summary_of(toml);
    let t = &s.totals;
    assert!(
        t.rate_limited > 0 && t.gave_up > 0,
        "the test needs 429s and give-ups"
    );
    // By hand, grok-4.3 at $1.25 / $0.20 / $2.50 per million: 6,000 x 1,250 + 4,000 x 200 +
    // 2,000 x 1,250 + 500 x 2,500 + 3,000 x 2,500 = 19,550,000 nano-USD per request.
    let c = t.cost.as_ref().unwrap();
    assert_eq!(nano(&c.total_usd), 19_550_000 * t.succeeded);
    assert_eq!(nano(&c.input_usd), 7_500_000 * t.succeeded);
    assert_eq!(nano(&c.cached_input_usd), 800_000 * t.succeeded);
    assert_eq!(nano(&c.image_usd), 2_500_000 * t.succeeded);
    assert_eq!(nano(&c.completion_usd), 1_250_000 * t.succeeded);
    assert_eq!(nano(&c.reasoning_usd), 7_500_000 * t.succeeded);
    assert_eq!(c.per_success_usd, Some(0.01955));
}

#[test]
fn a_long_prompt_is_billed_at_the_long_context_rate_and_inline_prices_win() {
    let base = |prompt: u64, prices: &str| {
        format!(
            r#"
name = "long"
seed = 3
duration = "10s"
tier = 4
{prices}
[[traffic]]
model = "grok-4.3"
arrivals = {{ process = "constant", rate_per_sec = 1 }}
prompt_tokens = {{ dist = "constant", value = {prompt} }}
completion_tokens = {{ dist = "constant", value = 1000 }}
"#
        )
    };
    let per = |toml: String| {
        let s = summary_of(&toml);
        nano(&s.totals.cost.unwrap().total_usd) / s.totals.succeeded
    };
    assert_eq!(per(base(199_999, "")), 199_999 * 1_250 + 1_000 * 2_500);
    assert_eq!(per(base(200_000, "")), 200_000 * 2_500 + 1_000 * 5_000);
    let inline = "[[prices]]\nmodel = \"grok-4.3\"\ninput = 3\ncached_input = 1\noutput = 10\n";
    assert_eq!(per(base(200_000, inline)), 200_000 * 3_000 + 1_000 * 10_000);
}

/// A steady load below every cap, billed through a prepaid account.
fn prepaid(account: &str, rate: f64, duration: &str) -> String {
    format!(
        r#"
name = "acct"
seed = 3
duration = "{duration}"

[account]
{account}

[latency]
base = "0.5s"
output_tokens_per_sec = inf

[[traffic]]
model = "grok-4.3"
arrivals = {{ process = "constant", rate_per_sec = {rate} }}
prompt_tokens = {{ dist = "constant", value = 7998 }}
completion_tokens = {{ dist = "constant", value = 1 }}
"#
    )
}

#[test]
fn planned_purchases_move_the_tier_at_their_instant_and_the_caps_change_there() {
    // 55 req/s: above tier 0's 30 RPS and tier 1's 40, below tier 2's 60.
    let toml = prepaid(
        "billing = \"prepaid\"\ncredit = 1000\npurchases = [{ at = \"20s\", usd = 50 }, { at = \"40s\", usd = 200 }]",
        55.0,
        "60s",
    )
    .replace("[latency]", "[client]\npreset = \"none\"\n\n[latency]");
    let s = scenario(&toml);
    assert_eq!(s.tier, "0", "no spend to date: tier 0");
    let (rec, outcome) = ratesim::simulate(&s);
    let sum = summarize(&s, &rec, &outcome);
    let a = sum.account.as_ref().unwrap();
    let changes: Vec<(f64, &str, &str, &str)> = a
        .tier_changes
        .iter()
        .map(|c| {
            (
                c.time_s,
                c.from.as_str(),
                c.to.as_str(),
                c.paid_usd.as_str(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (20.0, "0", "1", "50.000000000"),
            (40.0, "1", "2", "250.000000000")
        ]
    );
    // Admissions per second follow the caps: 30, then 40, then all 55 (buckets keep their
    // level, so the first second after a change is no higher than the new cap).
    let admitted = |from: usize, to: usize| -> Vec<u64> {
        rec.buckets[from..to].iter().map(|b| b.admitted).collect()
    };
    assert!(
        admitted(5, 20).iter().all(|&n| n == 30),
        "{:?}",
        admitted(5, 20)
    );
    assert!(
        admitted(21, 40).iter().all(|&n| n == 40),
        "{:?}",
        admitted(21, 40)
    );
    assert!(
        admitted(41, 60).iter().all(|&n| n == 55),
        "{:?}",
        admitted(41, 60)
    );
    assert_eq!(a.end_tier, "2");
}

#[test]
fn a_top_up_crosses_the_threshold_at_the_predicted_request() {
    // Each request costs 7,998 x 1,250 + 1 x 2,500 = 10,000,000 nano-USD ($0.01). $45 paid to date, $1 of
    // credit; below $0.50 the account buys $10. The balance first falls below $0.50 at the
    // 51st success ($1 - 51 x $0.01 = $0.49): that top-up brings payments to $55, past tier
    // 1's $50. Requests arrive every 0.1 s and take 0.5 s: the 51st succeeds at 5.5 s.
    let toml = prepaid(
        "spend_to_date = 45\nbilling = \"prepaid\"\ncredit = 1\ntop_up = { below = 0.5, buy = 10 }",
        10.0,
        "20s",
    );
    let s = scenario(&toml);
    assert_eq!(s.tier, "0", "$45 paid: tier 0");
    let sum = summary_of(&toml);
    let a = sum.account.unwrap();
    assert_eq!(a.tier_changes.len(), 1);
    let c = &a.tier_changes[0];
    assert_eq!((c.from.as_str(), c.to.as_str()), ("0", "1"));
    assert!((c.time_s - 5.5).abs() < 1e-9, "{}", c.time_s);
    assert_eq!(c.paid_usd, "55.000000000");
    // 200 requests cost $2: $1 of credit, then every $10 top-up as the balance dips.
    assert_eq!(a.usage_usd, "2.000000000");
    assert_eq!(a.top_ups, 1);
}

#[test]
fn a_prepaid_account_without_top_up_refuses_requests_once_its_credit_is_spent() {
    // $0.10 of credit is exactly 10 requests of $0.01; requests do not overlap (0.5 s each,
    // one a second), so the 11th and every later one are refused, never a 429.
    let toml = prepaid("billing = \"prepaid\"\ncredit = 0.1", 1.0, "30s");
    let s = scenario(&toml);
    let (t, outcome, _) = totals(&s);
    assert_conserved(&t, &outcome);
    assert_eq!(t.succeeded, 10);
    assert_eq!(t.no_credit, 20);
    assert_eq!(t.rate_limited, 0);
    let sum = summary_of(&toml);
    assert_eq!(sum.account.unwrap().refused_no_credit, 20);
}

#[test]
fn invoices_count_when_paid_and_tiers_never_go_down() {
    // $0.01 a request, one every 20 s: $43.20 a day. Invoiced daily, paid two days later: the
    // first invoice ($43.20) is paid at 3 d, the second at 4 d ($86.40 in all: tier 1 at 4 d),
    // and so on; tier 2 ($250) with the 6th invoice, paid at 8 d ($259.20).
    let toml = prepaid(
        "billing = \"invoice\"\ninvoice_period = \"1d\"\npayment_delay = \"2d\"",
        0.05,
        "9d",
    );
    let sum = summary_of(&toml);
    let a = sum.account.unwrap();
    let changes: Vec<(f64, &str)> = a
        .tier_changes
        .iter()
        .map(|c| (c.time_s / 86_400.0, c.to.as_str()))
        .collect();
    assert_eq!(changes, [(4.0, "1"), (8.0, "2")]);
    // The invoices of days 1 to 7 are paid at 3 to 9 d (the timer at 9 d, scheduled while
    // requests were still running, fires); those of days 8 and 9 are issued but unpaid.
    assert_eq!(a.invoices_paid, 7);
    assert!(nano(&a.unpaid_usage_usd) > 0);
}

#[test]
fn bad_prices_and_accounts_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let head = "name = \"b\"\nseed = 1\nduration = \"1m\"\n";
    let stream = "\n[[traffic]]\nmodel = \"grok-4.3\"\narrivals = { process = \"poisson\", rate_per_sec = 1 }\nprompt_tokens = { dist = \"constant\", value = 1 }\ncompletion_tokens = { dist = \"constant\", value = 1 }\n";
    write(
        dir.path(),
        "typo.csv",
        "model,input,cached_input,output,long_context_from,long_input,long_cached_input,long_output\ngrok-4.3,1.25,0.2,2.5,,,,\ngrok-43,1,0.2,2,,,,\n",
    );
    write(
        dir.path(),
        "bad.csv",
        "model,input,cached_input,output,long_context_from,long_input,long_cached_input,long_output\ngrok-4.3,1.25,0.2,two,,,,\n",
    );
    for (body, says) in [
        (
            "tier = 0\n[[prices]]\nmodel = \"grok-5\"\ninput = 1\ncached_input = 0.1\noutput = 2\n",
            "prices[0].model",
        ),
        (
            "tier = 0\n[[prices]]\nmodel = \"grok-4.3\"\ninput = -1\ncached_input = 0.1\noutput = 2\n",
            "prices[0].input",
        ),
        (
            "tier = 0\n[[prices]]\nmodel = \"grok-4.3\"\ninput = 1.0001\ncached_input = 0.1\noutput = 2\n",
            "at most 3 decimals",
        ),
        (
            "tier = 0\n[[prices]]\nmodel = \"grok-4.3\"\ninput = 1\ncached_input = 0.1\noutput = 2\nlong_context_from = 200000\n",
            "need all four",
        ),
        ("tier = 0\nprices_file = \"typo.csv\"\n", "\"grok-43\""),
        ("tier = 0\nprices_file = \"bad.csv\"\n", "column `output`"),
        (
            "[account]\nbilling = \"credit-card\"\ncredit = 5\n",
            "account.billing",
        ),
        (
            "[account]\nbilling = \"prepaid\"\n",
            "refuses every request",
        ),
        (
            "[account]\nbilling = \"prepaid\"\ncredit = -5\n",
            "account.credit",
        ),
        (
            "[account]\nbilling = \"prepaid\"\ncredit = 5\ntop_up = { below = 5, buy = 0 }\n",
            "account.top_up.buy",
        ),
        (
            "[account]\nbilling = \"invoice\"\ntop_up = { below = 5, buy = 10 }\n",
            "account.top_up",
        ),
        (
            "[account]\nbilling = \"invoice\"\ninvoice_period = \"0s\"\n",
            "account.invoice_period",
        ),
        (
            "[account]\nbilling = \"prepaid\"\ncredit = 1\npurchases = [{ at = \"2d\", usd = 1 }, { at = \"1d\", usd = 1 }]\n",
            "account.purchases[1].at",
        ),
        ("", "give the tier (tier = 0), or an [account]"),
    ] {
        let f = write(dir.path(), "bad.toml", &format!("{head}{body}{stream}"));
        let out = dir.path().join("out");
        let o = ratesim()
            .args(["run"])
            .arg(&f)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{body}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{body}: no {says:?} in {err}");
        assert!(!out.exists(), "{body}: wrote output");
    }
    // An account on a model without prices.
    let f = write(
        dir.path(),
        "bad.toml",
        "name = \"b\"\nseed = 1\nduration = \"1m\"\n[account]\nbilling = \"invoice\"\n[[limits]]\nmodel = \"m\"\nrps = 5\n[[traffic]]\nmodel = \"m\"\narrivals = { process = \"poisson\", rate_per_sec = 1 }\nprompt_tokens = { dist = \"constant\", value = 1 }\ncompletion_tokens = { dist = \"constant\", value = 1 }\n",
    );
    let o = ratesim().arg("validate").arg(&f).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("model \"m\" has no prices"));
}

#[test]
fn a_forecast_of_a_steady_workload_matches_daily_cost_times_days() {
    // 2 requests a second of exactly $0.01 under every cap, invoiced: $1,728 a day for 3 days.
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "steady.toml",
        &prepaid("billing = \"invoice\"", 2.0, "1d"),
    );
    let out = dir.path().join("fc");
    let o = ratesim()
        .args(["forecast"])
        .arg(&file)
        .args(["--horizon", "3d", "--no-charts", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let days = std::fs::read_to_string(out.join("days.csv")).unwrap();
    let planned: Vec<Vec<&str>> = days
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .filter(|r: &Vec<&str>| r[0] == "as planned")
        .collect();
    assert_eq!(planned.len(), 3);
    let mut total = 0u64;
    for r in &planned {
        // The first day's first request and the last day's last completion shift by under a
        // second; every full day bills 172,800 requests.
        let cost = nano(r[7]);
        assert!(cost.abs_diff(1_728_000_000_000) <= 10_000_000, "{r:?}");
        total += cost;
    }
    assert_eq!(total, 3 * 1_728_000_000_000, "daily cost x days, exactly");
    let paths = std::fs::read_to_string(out.join("paths.csv")).unwrap();
    assert!(paths.lines().count() >= 2, "{paths}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("simulated in full"), "{stdout}");
}

#[test]
fn tiers_only_ever_go_up_whatever_the_payments() {
    for (seed, account) in [
        (
            1,
            "billing = \"prepaid\"\ncredit = 3\ntop_up = { below = 2, buy = 7 }",
        ),
        (
            2,
            "billing = \"invoice\"\ninvoice_period = \"1h\"\npayment_delay = \"30m\"\ncredit = 1",
        ),
        (
            3,
            "spend_to_date = 60\nbilling = \"prepaid\"\ncredit = 100\npurchases = [{ at = \"1h\", usd = 400 }, { at = \"2h\", usd = 5000 }]",
        ),
    ] {
        let toml = prepaid(account, 30.0, "4h").replace("seed = 3", &format!("seed = {seed}"));
        let s = scenario(&toml);
        let ladder: Vec<String> = s
            .account
            .as_ref()
            .unwrap()
            .ladder
            .iter()
            .map(|t| t.tier.clone())
            .collect();
        let sum = summary_of(&toml);
        let a = sum.account.unwrap();
        assert!(!a.tier_changes.is_empty(), "{account}");
        let mut at = 0;
        let mut last_t = 0.0;
        for c in &a.tier_changes {
            let from = ladder.iter().position(|t| *t == c.from).unwrap();
            let to = ladder.iter().position(|t| *t == c.to).unwrap();
            assert_eq!(from, at, "{account}: a change from where the tier is");
            assert!(to > from, "{account}: {c:?} goes down");
            assert!(c.time_s >= last_t);
            at = to;
            last_t = c.time_s;
        }
    }
}
