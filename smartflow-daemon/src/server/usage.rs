//! `/api/usage` and `/api/me/usage`: usage totals for one key, user, team or department over
//! recent days, and the limit counters that concern it.

use serde_json::{Value, json};
use smartflow_core::{Error, Principal};
use smartflow_policy::governance::rules::ScopeAttr;

use crate::state::Shared;

const MAX_DAYS: u64 = 400;

/// The report for the subject the query names (admin), or for the caller's own key (`own`).
pub(crate) fn report(shared: &Shared, caller: &Principal, query: Option<&str>, own: bool) -> Result<Value, Error> {
    let mut subject: Option<(ScopeAttr, String)> = None;
    let mut days = 30;
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match name.as_ref() {
            "days" => {
                days = value.parse().ok().filter(|d| (1..=MAX_DAYS).contains(d)).ok_or_else(|| {
                    Error::invalid_request(format!("days must be a number from 1 to {MAX_DAYS}")).with_param("days")
                })?;
            }
            "key" | "user" | "team" | "department" if !own => {
                if subject.is_some() {
                    return Err(Error::invalid_request("name one of key, user, team or department").with_param(name));
                }
                let attr = ScopeAttr::parse(&name).unwrap_or(ScopeAttr::Key);
                subject = Some((attr, value.into_owned()));
            }
            other => return Err(Error::invalid_request(format!("unknown query parameter `{other}`")).with_param(other)),
        }
    }
    let (attr, value) = match (own, subject) {
        (true, _) => (ScopeAttr::Key, caller.key_id.clone()),
        (false, Some(s)) => s,
        (false, None) => {
            return Err(Error::invalid_request("name the subject: ?key=, ?user=, ?team= or ?department="));
        }
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let usage = &shared.stores.usage;
    let totals = usage.totals(now, attr, &value, days);
    let today = usage.totals(now, attr, &value, 1);
    let needle = format!("{}={value}", attr.label());
    let limits: Vec<Value> = shared
        .stores
        .ledger
        .scan("")
        .into_iter()
        .filter_map(|(key, counter)| {
            let mut parts = key.splitn(4, '|');
            let (rule, metric, period, scope) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            scope.split(',').any(|s| s == needle).then(|| {
                json!({
                    "rule": rule, "metric": metric, "period": period, "scope": scope,
                    "used": counter.used, "reserved": counter.reserved,
                })
            })
        })
        .collect();
    Ok(json!({
        "object": "usage",
        "subject": { attr.label(): value },
        "days": days,
        "totals": totals,
        "today": today,
        "spend_usd": totals.spend_nano_usd as f64 / 1e9,
        "counters": limits,
    }))
}
