//! What the current request knows about itself (its id, its caller), reachable from anywhere
//! inside it (error envelopes, the bearer scheme, the request log line, the events a change
//! records) through a task-local. The HTTP middleware opens it; no HTTP types here.

use std::sync::{Arc, OnceLock};

use crate::auth::Principal;
use crate::domain::{Actor, OrgId};

#[derive(Debug)]
pub(crate) struct RequestContext {
    pub id: Arc<str>,
    principal: OnceLock<(OrgId, Actor)>,
}

impl RequestContext {
    pub(crate) fn new(id: Arc<str>) -> Self {
        Self {
            id,
            principal: OnceLock::new(),
        }
    }

    /// The caller, once the bearer scheme has read its credentials (an API key is verified by
    /// the request's first statement).
    pub(crate) fn principal(&self) -> Option<(OrgId, Actor)> {
        self.principal.get().copied()
    }
}

tokio::task_local! {
    static CURRENT: Arc<RequestContext>;
}

/// Runs `fut` as the request described by `ctx`.
pub(crate) async fn scope<F: Future>(ctx: Arc<RequestContext>, fut: F) -> F::Output {
    CURRENT.scope(ctx, fut).await
}

/// The current request's id, or an empty string outside a request.
pub(crate) fn request_id() -> String {
    CURRENT
        .try_with(|ctx| ctx.id.to_string())
        .unwrap_or_default()
}

/// Remembers who is calling, for the request's log line.
pub(crate) fn record_principal(principal: &Principal) {
    let _ = CURRENT.try_with(|ctx| ctx.principal.set((principal.org_id(), principal.actor())));
}
