//! Webhooks: Standard Webhooks signatures ([`signing`]), the guarded HTTP client
//! ([`outbound`]) and the relay that delivers the organizations' events ([`relay`]).

pub mod outbound;
pub mod relay;
pub mod signing;
