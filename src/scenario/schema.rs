//! `ratesim schema`: the JSON Schema of the scenario format, derived from the same `Raw*` types
//! the parser reads (so it cannot drift from them), for editors that check TOML against a
//! JSON Schema (VS Code's Even Better TOML, Taplo).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::RawScenario;
use super::fields::{Dur, MaybeDur, Tier};

/// A duration string with units, as the parser reads it.
const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(d|h|m|s|ms|us|ns))+$";

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration with units, largest first, each at most once: \"90s\", \"15m\", \"1h30m\", \"250ms\", \"2d\"",
        })
    }
}

impl JsonSchema for MaybeDur {
    fn schema_name() -> Cow<'static, str> {
        "DurationOrNone".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "anyOf": [{ "pattern": DURATION_PATTERN }, { "const": "none" }],
            "description": "A duration with units, or \"none\"",
        })
    }
}

impl JsonSchema for Tier {
    fn schema_name() -> Cow<'static, str> {
        "Tier".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "integer"],
            "description": "A tier of the provider's table: 0 to 4 or \"enterprise\" for xAI, \"start\" for Anthropic, \"free\" for Gemini, ...",
        })
    }
}

/// The schema (JSON Schema draft 07, which editors' TOML extensions read).
pub fn schema() -> Schema {
    let settings = schemars::generate::SchemaSettings::draft07();
    let mut s = settings
        .into_generator()
        .into_root_schema_for::<RawScenario>();
    s.insert("title".into(), "ratesim scenario".into());
    s.insert(
        "description".into(),
        format!(
            "A ratesim {} scenario file (TOML). Unknown keys are errors.",
            env!("CARGO_PKG_VERSION")
        )
        .into(),
    );
    s
}

/// The schema as pretty JSON, with a final newline.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("a schema serialises");
    text.push('\n');
    text
}

impl JsonSchema for crate::client::AboveMax {
    fn schema_name() -> Cow<'static, str> {
        "RetryAfterAboveMax".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "enum": ["give-up", "backoff"] })
    }
}

impl<T: JsonSchema> JsonSchema for super::client::Switch<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Switch_{}", T::schema_name()).into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The settings, or false to turn off a preset's",
            "anyOf": [g.subschema_for::<T>(), { "const": false }],
        })
    }
}
