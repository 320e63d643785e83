//! `ModelTable`: a fixed map from virtual model names to ordered targets.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, ErrorKind};
use crate::router::{RoutePlan, Router, Target};
use crate::types::{ModelInfo, ModelKind, Principal, RequestContext};

/// One virtual model: the name clients use and the targets that serve it, in priority order.
#[derive(Debug)]
pub struct VirtualModel {
    /// The name clients send (a branded name is fine).
    pub name: String,
    /// Chat or embedding.
    pub kind: ModelKind,
    /// Targets in failover order; never empty.
    pub targets: Vec<Arc<Target>>,
}

/// A router over a fixed table of virtual models, trying targets in their configured order.
#[derive(Debug, Default)]
pub struct ModelTable {
    models: HashMap<String, VirtualModel>,
    order: Vec<String>,
    owned_by: String,
    created: u64,
}

impl ModelTable {
    /// An empty table; `owned_by` is shown in `/v1/models`.
    pub fn new(owned_by: impl Into<String>) -> Self {
        let created =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Self { models: HashMap::new(), order: Vec::new(), owned_by: owned_by.into(), created }
    }

    /// Adds a virtual model. Fails on a duplicate name or an empty target list.
    pub fn insert(&mut self, model: VirtualModel) -> Result<(), Error> {
        if model.targets.is_empty() {
            return Err(Error::internal(format!("model {} has no targets", model.name)));
        }
        if self.models.contains_key(&model.name) {
            return Err(Error::internal(format!("model {} is defined twice", model.name)));
        }
        self.order.push(model.name.clone());
        self.models.insert(model.name.clone(), model);
        Ok(())
    }

    /// Number of virtual models.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

impl Router for ModelTable {
    fn plan(&self, _ctx: &RequestContext, model: &str, kind: ModelKind) -> Result<RoutePlan, Error> {
        match self.models.get(model) {
            Some(vm) if vm.kind == kind => Ok(RoutePlan { targets: vm.targets.clone() }),
            _ => Err(Error::new(
                ErrorKind::NotFound,
                match kind {
                    ModelKind::Chat => "the model does not exist or you do not have access to it",
                    ModelKind::Embedding => "the embedding model does not exist or you do not have access to it",
                },
            )
            .with_param("model")
            .with_code("model_not_found")),
        }
    }

    fn models(&self, _principal: &Principal) -> Vec<ModelInfo> {
        self.order
            .iter()
            .filter_map(|name| self.models.get(name))
            .map(|vm| ModelInfo {
                id: vm.name.clone(),
                object: "model",
                created: self.created,
                owned_by: self.owned_by.clone(),
                kind: vm.kind,
            })
            .collect()
    }
}
