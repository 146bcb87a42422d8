//! `ratesim schema`: every bundled scenario validates against it, and what the parser refuses
//! for its shape (unknown keys, wrong types, unknown enum values) the schema refuses too.

use super::*;

fn validator() -> jsonschema::Validator {
    let out = ratesim().arg("schema").assert().success();
    let schema: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

fn as_json(toml_text: &str) -> serde_json::Value {
    let v: toml::Value = toml::from_str(toml_text).unwrap();
    serde_json::to_value(v).unwrap()
}

#[test]
fn every_bundled_scenario_validates_against_the_schema() {
    let v = validator();
    let mut n = 0;
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let doc = as_json(&std::fs::read_to_string(&path).unwrap());
            let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            n += 1;
        }
    }
    assert!(n >= 15, "{n} scenarios");
}

#[test]
fn the_schema_refuses_what_the_parser_refuses_for_its_shape() {
    let v = validator();
    let good = std::fs::read_to_string("scenarios/quickstart.toml").unwrap();
    assert!(v.is_valid(&as_json(&good)));
    for (edit, what) in [
        (
            good.replace("seed = 42", "seed = 42\nspeed = 1"),
            "an unknown key",
        ),
        (good.replace("seed = 42", "seed = \"42\""), "a string seed"),
        (
            good.replace("duration = \"5m\"", "duration = \"5 minutes\""),
            "a duration without a unit",
        ),
        (
            good.replace("[latency]", "[latency]\nnoise = 1\n"),
            "an unknown key in [latency]",
        ),
        (
            good.replace(
                "dist = \"lognormal\", mean = 1000",
                "dist = \"zipf\", mean = 1000",
            ),
            "an unknown distribution",
        ),
        (
            good.replace("name = \"chat\"\n", ""),
            "still valid: a stream's name is optional",
        ),
    ] {
        let valid = v.is_valid(&as_json(&edit));
        let parsed = ratesim::scenario::parse(
            &edit,
            "t.toml",
            Some(std::path::Path::new("scenarios")),
            &ratesim::scenario::Overrides::default(),
        )
        .is_ok();
        assert_eq!(
            valid, parsed,
            "{what}: schema says {valid}, parser {parsed}"
        );
    }
}
