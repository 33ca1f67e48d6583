//! Access tokens: HS256 JWTs with a pinned algorithm and validated `iss`, `aud`, `exp`, `nbf`,
//! `iat`, carrying the session id (`sid`).
//!
//! Key rotation: the header's `kid` (derived from the key, not secret) selects the verifying
//! key among the current one, which signs, and the previous ones, which only verify. Rotate by
//! making the old secret a previous one and setting a new current one: tokens already issued
//! stay valid until they expire.
//!
//! Signing and verification run on [`HS256_ONLY`], a jsonwebtoken crypto provider that knows
//! HMAC-SHA256 and nothing else: the crate's bundled providers build RSA, ECDSA and Ed25519 (or
//! a C library) that this service never uses, and any other algorithm is refused here as well as
//! by the pinned [`Validation`].

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Principal;
use crate::domain::{OrgId, Role, SessionId, UserId};
use crate::error::AppError;

/// Tokens longer than this are rejected before any parsing (ours are about 400 bytes).
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 5;
const ALGORITHM: Algorithm = Algorithm::HS256;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    /// The user id.
    sub: Uuid,
    /// The organization id.
    org: Uuid,
    /// The session id.
    sid: Uuid,
    /// The user's role when the token was issued: information for clients (to shape their
    /// interface). The service never authorises with it; the database's current role decides.
    role: String,
    iat: u64,
    nbf: u64,
    exp: u64,
}

/// An issued access token and its lifetime.
#[derive(Debug)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: u64,
}

pub struct TokenService {
    kid: String,
    encoding: EncodingKey,
    /// Every key that verifies, by `kid`: the current one first.
    decoding: Vec<(String, DecodingKey)>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: u64,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

/// The process's jsonwebtoken crypto provider: HS256 only (see the module docs).
pub static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: hs256_signer,
    verifier_factory: hs256_verifier,
    // JWK processing is never used (keys are shared secrets, selected by `kid`).
    key_utils: KeyUtils::new_unimplemented(),
};

/// HMAC-SHA256 keyed with one secret, as a jsonwebtoken signer and verifier.
struct Hs256(Hmac<Sha256>);

impl Hs256 {
    fn new(
        algorithm: &Algorithm,
        key: Result<&[u8], jsonwebtoken::errors::Error>,
    ) -> jsonwebtoken::errors::Result<Self> {
        if *algorithm != Algorithm::HS256 {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        let mac = Hmac::<Sha256>::new_from_slice(key?).map_err(|_| ErrorKind::InvalidKeyFormat)?;
        Ok(Self(mac))
    }
}

fn hs256_signer(
    algorithm: &Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    Ok(Box::new(Hs256::new(algorithm, Ok(key.as_bytes()))?))
}

fn hs256_verifier(
    algorithm: &Algorithm,
    key: &DecodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    Ok(Box::new(Hs256::new(algorithm, key.try_get_as_bytes())?))
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        // Constant-time comparison.
        mac.verify_slice(tag).map_err(signature::Error::from_source)
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

const TOKEN_INVALID: AppError = AppError::Unauthenticated {
    code: "TOKEN_INVALID",
    message: "the access token is invalid",
};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The public identifier of a key: 16 hex digits of its SHA-256.
pub fn key_id(secret: &SecretString) -> String {
    Sha256::digest(secret.expose_secret().as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl TokenService {
    pub fn new(secret: &SecretString, issuer: &str, audience: &str, ttl_secs: u64) -> Self {
        Self::with_previous_keys(secret, &[], issuer, audience, ttl_secs)
    }

    /// `current` signs; `current` and `previous` verify.
    pub fn with_previous_keys(
        current: &SecretString,
        previous: &[SecretString],
        issuer: &str,
        audience: &str,
        ttl_secs: u64,
    ) -> Self {
        // Once per process; a second service (tests) finds it installed already.
        let _ = HS256_ONLY.install_default();
        let decoding = std::iter::once(current)
            .chain(previous)
            .map(|key| {
                (
                    key_id(key),
                    DecodingKey::from_secret(key.expose_secret().as_bytes()),
                )
            })
            .collect();
        let secret = current.expose_secret().as_bytes();
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            kid: key_id(current),
            encoding: EncodingKey::from_secret(secret),
            decoding,
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_secs,
        }
    }

    /// A token for `principal`, whose role (for the informational claim) is `role`.
    pub fn issue(&self, principal: &Principal, role: Role) -> Result<AccessToken, AppError> {
        let person = principal
            .person()
            .ok_or_else(|| AppError::internal("access tokens are issued to people"))?;
        let iat = now();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: *person.user_id.as_uuid(),
            org: *principal.org_id().as_uuid(),
            sid: *person.session_id.as_uuid(),
            role: role.as_str().to_owned(),
            iat,
            nbf: iat,
            exp: iat + self.ttl_secs,
        };
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(self.kid.clone());
        let token =
            jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(AppError::internal)?;
        Ok(AccessToken {
            token,
            expires_in: self.ttl_secs,
        })
    }

    /// Verifies signature, algorithm, issuer, audience and validity window, and yields the
    /// caller. Every failure is a 401 with a specific code; none says more than that.
    pub fn verify(&self, token: &str) -> Result<Principal, AppError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TOKEN_INVALID);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TOKEN_INVALID)?;
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.decoding.iter().find(|(id, _)| id == kid))
            .map(|(_, key)| key)
            .ok_or(TOKEN_INVALID)?;
        let data =
            jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(
                |err| match err.kind() {
                    ErrorKind::ExpiredSignature => AppError::Unauthenticated {
                        code: "TOKEN_EXPIRED",
                        message: "the access token has expired",
                    },
                    ErrorKind::ImmatureSignature => AppError::Unauthenticated {
                        code: "TOKEN_NOT_YET_VALID",
                        message: "the access token is not valid yet",
                    },
                    _ => TOKEN_INVALID,
                },
            )?;
        let claims = data.claims;
        if claims.iat > now() + LEEWAY_SECS {
            return Err(TOKEN_INVALID);
        }
        // Not an input to authorisation, but a token we issued always names a known role.
        Role::parse(&claims.role).ok_or(TOKEN_INVALID)?;
        Ok(Principal::new(
            OrgId::from_uuid(claims.org),
            UserId::from_uuid(claims.sub),
            SessionId::from_uuid(claims.sid),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TokenService {
        TokenService::new(
            &SecretString::from("k".repeat(32)),
            "tenantry",
            "tenantry-api",
            60,
        )
    }

    fn principal() -> Principal {
        Principal::new(OrgId::generate(), UserId::generate(), SessionId::generate())
    }

    fn code(result: Result<Principal, AppError>) -> &'static str {
        match result {
            Err(AppError::Unauthenticated { code, .. }) => code,
            other => panic!("expected a 401, got {other:?}"),
        }
    }

    #[test]
    fn an_issued_token_verifies_to_the_same_principal() {
        let service = service();
        let principal = principal();
        let token = service
            .issue(&principal, Role::Admin)
            .expect("issued")
            .token;
        assert_eq!(service.verify(&token).expect("valid"), principal);
    }

    #[test]
    fn a_token_signed_with_another_key_is_invalid() {
        let other = TokenService::new(
            &SecretString::from("o".repeat(32)),
            "tenantry",
            "tenantry-api",
            60,
        );
        let token = other
            .issue(&principal(), Role::Admin)
            .expect("issued")
            .token;
        assert_eq!(code(service().verify(&token)), "TOKEN_INVALID");
    }

    #[test]
    fn wrong_issuer_or_audience_is_invalid() {
        let secret = SecretString::from("k".repeat(32));
        for other in [
            TokenService::new(&secret, "someone-else", "tenantry-api", 60),
            TokenService::new(&secret, "tenantry", "another-api", 60),
        ] {
            let token = other
                .issue(&principal(), Role::Admin)
                .expect("issued")
                .token;
            assert_eq!(code(service().verify(&token)), "TOKEN_INVALID");
        }
    }

    #[test]
    fn previous_keys_verify_but_only_the_current_key_signs() {
        let old = SecretString::from("o".repeat(32));
        let new = SecretString::from("n".repeat(32));
        let before = TokenService::new(&old, "tenantry", "tenantry-api", 60);
        let after = TokenService::with_previous_keys(
            &new,
            std::slice::from_ref(&old),
            "tenantry",
            "tenantry-api",
            60,
        );
        let principal = principal();
        let old_token = before.issue(&principal, Role::Admin).expect("issued").token;
        assert_eq!(after.verify(&old_token).expect("still valid"), principal);
        let new_token = after.issue(&principal, Role::Admin).expect("issued").token;
        assert_eq!(
            code(before.verify(&new_token)),
            "TOKEN_INVALID",
            "unknown kid"
        );
        assert_ne!(key_id(&old), key_id(&new));
    }

    #[test]
    fn oversized_and_malformed_tokens_are_invalid() {
        let service = service();
        for token in ["", "abc", "a.b.c", &"a".repeat(MAX_TOKEN_BYTES + 1)] {
            assert_eq!(code(service.verify(token)), "TOKEN_INVALID", "{token:.20}");
        }
    }
}
