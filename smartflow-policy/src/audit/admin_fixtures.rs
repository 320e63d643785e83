//! Admin API records shared by the sinks' tests: each sink turns its own base record into an
//! admin's `POST /api/keys` and a non-admin's refused `PATCH /api/keys/{id}`.

use std::sync::Arc;

use smartflow_core::{AdminChange, AuditRecord, ChangeAction, Outcome, Principal};

/// `base` as an admin (`key_id`, `user`) who created virtual key `k_abc`: no model, target,
/// usage, cost or first byte, 3 ms.
pub(crate) fn admin_created(mut r: AuditRecord, key_id: &str, user: Option<&str>) -> AuditRecord {
    let mut principal = Principal::new(key_id);
    principal.user = user.map(str::to_owned);
    principal.admin = true;
    r.principal = Arc::new(principal);
    r.endpoint = "admin";
    r.model = None;
    r.target = None;
    r.usage = None;
    r.cost_nano_usd = None;
    r.ttfb_ms = None;
    r.latency_ms = 3.0;
    r.admin = Some(change("POST /api/keys", ChangeAction::Created));
    r
}

/// `created` as `caller`, without admin rights, refused (403) when changing key `k_abc`.
pub(crate) fn admin_denied(created: AuditRecord, caller: Arc<Principal>) -> AuditRecord {
    let mut r = created;
    r.principal = caller;
    r.outcome = Outcome::Denied;
    r.status = 403;
    r.error = Some("permission_denied");
    r.admin = Some(change("PATCH /api/keys/{id}", ChangeAction::Modified));
    r
}

fn change(operation: &str, action: ChangeAction) -> AdminChange {
    AdminChange {
        operation: operation.to_owned(),
        action,
        object_category: "virtual_key",
        object: Some("k_abc".to_owned()),
    }
}
