//! Shared inputs for the Smartflow benchmarks: a realistic ~200-token chat request, the same
//! one the load harness in ../shared/bench sends.

/// A chat request body with a system prompt and a ~200-token user prompt.
pub fn chat_body(model: &str, stream: bool) -> Vec<u8> {
    let prompt = "Summarise the following incident report for an executive audience. ".repeat(20);
    serde_json::json!({
        "model": model,
        "stream": stream,
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": "You are a concise assistant for a regulated enterprise."},
            {"role": "user", "content": prompt}
        ]
    })
    .to_string()
    .into_bytes()
}
