//! The checks `jsonwebtoken` leaves to us (`iss` as one exact string, `iat` not in the future)
//! and the mapping of verified claims to a `Principal`.

use serde_json::Value;
use smartflow_core::Principal;

use super::config::ClaimMapping;

/// Longest string taken from a claim (user, team, department, tier, one group).
const MAX_CLAIM_BYTES: usize = 256;

/// Most groups taken from a token.
const MAX_GROUPS: usize = 256;

/// Seconds since the Unix epoch.
pub(super) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// Checks `iss` (one string, equal to `issuer`) and `iat` (if present, a number no later than
/// `now + leeway`).
pub(super) fn check(claims: &Value, issuer: &str, leeway: u64, now: u64) -> Result<(), &'static str> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err("issuer mismatch");
    }
    if let Some(iat) = claims.get("iat") {
        let iat = iat.as_f64().filter(|t| t.is_finite()).ok_or("iat is not a number")?;
        if iat > now.saturating_add(leeway) as f64 {
            return Err("issued in the future");
        }
    }
    Ok(())
}

/// The claim at `path`: a top-level claim of that name, else a dotted path into nested objects.
fn claim<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    claims.get(path).or_else(|| path.split('.').try_fold(claims, |value, segment| value.get(segment)))
}

/// A string fit for a principal: non-empty, bounded, no control characters.
fn text(value: &str) -> Option<String> {
    let ok = !value.is_empty() && value.len() <= MAX_CLAIM_BYTES && !value.chars().any(char::is_control);
    ok.then(|| value.to_owned())
}

fn string_claim(claims: &Value, path: Option<&str>) -> Option<String> {
    claim(claims, path?)?.as_str().and_then(text)
}

/// Groups from an array of strings or a space-separated string; other values give none.
fn groups(claims: &Value, path: Option<&str>) -> Vec<String> {
    let Some(value) = path.and_then(|p| claim(claims, p)) else {
        return Vec::new();
    };
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).filter_map(text).take(MAX_GROUPS).collect(),
        Value::String(s) => s.split_whitespace().filter_map(text).take(MAX_GROUPS).collect(),
        _ => Vec::new(),
    }
}

/// The principal a verified token stands for; `None` when the user claim is missing or unfit.
pub(super) fn principal(claims: &Value, mapping: &ClaimMapping) -> Option<Principal> {
    let user = string_claim(claims, Some(&mapping.user))?;
    let mut principal = Principal::new(format!("{}{user}", mapping.key_id_prefix));
    principal.user = Some(user);
    principal.team = string_claim(claims, mapping.team.as_deref());
    principal.department = string_claim(claims, mapping.department.as_deref());
    principal.tier = string_claim(claims, mapping.tier.as_deref());
    principal.groups = groups(claims, mapping.groups.as_deref());
    principal.admin = principal.groups.iter().any(|g| mapping.admin_groups.contains(g));
    Some(principal)
}
