//! Inline compliance, with zero external calls: PII and secret detection ([`pii`]) and what to
//! do with what it finds ([`redact`]). Information barriers and the guardrail hooks build on it.
//!
//! The MCP hooks (`Policy::on_tool_call`, `Policy::on_tool_result`) inspect every string leaf of
//! a tool's JSON arguments or result (object keys are left alone), within [`MAX_TOOL_DEPTH`]
//! levels and [`MAX_TOOL_TEXT_BYTES`] bytes: anything beyond those bounds is refused, never
//! skipped.

pub mod barrier;
mod deny_list;
mod injection;
mod json_schema;
pub mod pii;
mod pii_policy;
pub mod redact;
mod size_limit;

pub use deny_list::DenyList;
pub use injection::{DEFAULT_THRESHOLD as INJECTION_THRESHOLD, PromptInjection, Verdict};
pub use json_schema::{JsonSchema, MAX_BUFFER as JSON_SCHEMA_MAX_BUFFER, SchemaError};
pub use pii_policy::PiiPolicy;
pub use size_limit::SizeLimit;

use serde_json::Value;
use smartflow_core::{Decision, Denial, ErrorKind};

/// The deepest nesting (arrays and objects) of a tool's arguments or result the guardrails
/// inspect; deeper JSON is refused.
pub const MAX_TOOL_DEPTH: usize = 64;

/// The most text (string values and object keys, in bytes) of a tool's arguments or result the
/// guardrails inspect; more is refused.
pub const MAX_TOOL_TEXT_BYTES: usize = 1 << 20;

/// Which side of a tool call a hook sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToolSide {
    /// The call's arguments (`mcp_pre_tool`).
    Arguments,
    /// The tool's result (`mcp_post_tool`).
    Result,
}

impl ToolSide {
    /// The phase decisions are recorded under (as `PolicyStack` names it).
    pub(crate) fn phase(self) -> &'static str {
        match self {
            Self::Arguments => "tool_call",
            Self::Result => "tool_result",
        }
    }

    /// What it is, for messages.
    pub(crate) fn what(self) -> &'static str {
        match self {
            Self::Arguments => "tool arguments",
            Self::Result => "tool result",
        }
    }
}

/// Why tool JSON is beyond what the guardrails inspect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Oversize {
    /// Nested deeper than [`MAX_TOOL_DEPTH`].
    Depth,
    /// More than [`MAX_TOOL_TEXT_BYTES`] of text.
    Bytes,
}

/// Checks tool JSON against [`MAX_TOOL_DEPTH`] and [`MAX_TOOL_TEXT_BYTES`], without recursion.
pub(crate) fn check_tool_json(value: &Value) -> Result<(), Oversize> {
    let mut stack = vec![(value, 0usize)];
    let mut bytes = 0usize;
    while let Some((v, depth)) = stack.pop() {
        match v {
            Value::String(s) => bytes = bytes.saturating_add(s.len()),
            Value::Array(items) => {
                if depth >= MAX_TOOL_DEPTH {
                    return Err(Oversize::Depth);
                }
                stack.extend(items.iter().map(|x| (x, depth + 1)));
            }
            Value::Object(map) => {
                if depth >= MAX_TOOL_DEPTH {
                    return Err(Oversize::Depth);
                }
                for (k, x) in map {
                    bytes = bytes.saturating_add(k.len());
                    stack.push((x, depth + 1));
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
        if bytes > MAX_TOOL_TEXT_BYTES {
            return Err(Oversize::Bytes);
        }
    }
    Ok(())
}

/// Every string leaf of `value`, in document order (call [`check_tool_json`] first).
pub(crate) fn tool_leaves(value: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => out.push(s.as_str()),
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Object(map) => stack.extend(map.values().rev()),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    out
}

/// Calls `f` on every string leaf of `value`, in document order (call [`check_tool_json`]
/// first). Object keys are left alone.
pub(crate) fn each_tool_leaf_mut(value: &mut Value, mut f: impl FnMut(&mut String)) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => f(s),
            Value::Array(items) => stack.extend(items.iter_mut().rev()),
            Value::Object(map) => stack.extend(map.values_mut().rev()),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// The refusal of tool JSON beyond the inspected bounds, by `rule`.
pub(crate) fn too_large(rule: impl Into<String>, side: ToolSide, why: Oversize) -> Decision {
    let (are, hold) = match side {
        ToolSide::Arguments => ("are", "hold"),
        ToolSide::Result => ("is", "holds"),
    };
    let what = side.what();
    let message = match why {
        Oversize::Depth => format!(
            "the {what} {are} nested deeper than {MAX_TOOL_DEPTH} levels, beyond what this gateway's guardrails inspect"
        ),
        Oversize::Bytes => format!(
            "the {what} {hold} more than {MAX_TOOL_TEXT_BYTES} bytes of text, beyond what this gateway's guardrails inspect"
        ),
    };
    let mut d = Denial::new(rule, message);
    d.kind = ErrorKind::PayloadTooLarge;
    Decision::Deny(d)
}

/// Appends a streamed chunk's text to `tail` (the end of the answer so far, kept so a word or
/// value split across chunks is still seen whole).
pub(crate) fn push_chunk_text(tail: &mut String, chunk: &smartflow_core::ChatChunk) {
    for c in &chunk.choices {
        if let Some(content) = &c.delta.content {
            tail.push_str(content);
        }
    }
}

/// Cuts `tail` down to its last `keep` bytes (on a char boundary).
pub(crate) fn trim_tail(tail: &mut String, keep: usize) {
    if tail.len() > keep {
        let mut from = tail.len() - keep;
        while !tail.is_char_boundary(from) {
            from += 1;
        }
        tail.drain(..from);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn leaves_are_visited_in_order_and_keys_left_alone() {
        let mut v = json!({"a": ["x", {"b": "y"}, 3, null], "c": "z"});
        assert_eq!(tool_leaves(&v), vec!["x", "y", "z"]);
        each_tool_leaf_mut(&mut v, |s| s.make_ascii_uppercase());
        assert_eq!(v, json!({"a": ["X", {"b": "Y"}, 3, null], "c": "Z"}));
    }

    #[test]
    fn json_beyond_the_bounds_is_refused() {
        assert_eq!(check_tool_json(&json!({"a": [1, "two"]})), Ok(()));
        let mut deep = json!("leaf");
        for _ in 0..MAX_TOOL_DEPTH {
            deep = json!([deep]);
        }
        assert_eq!(check_tool_json(&deep), Ok(()), "exactly the bound is fine");
        assert_eq!(check_tool_json(&json!({"k": deep})), Err(Oversize::Depth));
        let big = json!(["a".repeat(MAX_TOOL_TEXT_BYTES / 2), "b".repeat(MAX_TOOL_TEXT_BYTES / 2 + 1)]);
        assert_eq!(check_tool_json(&big), Err(Oversize::Bytes));
        let Decision::Deny(d) = too_large("r", ToolSide::Result, Oversize::Bytes) else { panic!("a denial") };
        assert_eq!((d.rule.as_str(), d.kind), ("r", ErrorKind::PayloadTooLarge));
        assert!(d.message.contains("tool result"), "{}", d.message);
    }
}
