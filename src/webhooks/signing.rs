//! Standard Webhooks signatures: `webhook-signature: v1,<base64 of HMAC-SHA256(secret,
//! "{webhook-id}.{webhook-timestamp}.{body}")>`, one `v1,` entry per secret that signs
//! (space-separated during a rotation's overlap). Secrets are shown to the tenant as `whsec_`
//! followed by the base64 of their 32 random bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The bytes of a signing secret.
pub const SECRET_BYTES: usize = 32;
/// The prefix of a secret as shown to the tenant.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new random signing secret.
pub fn new_secret() -> [u8; SECRET_BYTES] {
    let mut secret = [0u8; SECRET_BYTES];
    // The operating system's generator failing leaves nothing sensible to do.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut secret).expect("the operating system's random number generator failed");
    secret
}

/// `whsec_` + base64: how a secret is shown, once.
pub fn display_secret(secret: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(secret))
}

/// One signature: `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")).
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts a key of any length: this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header value: one signature per secret, space-separated.
pub fn signature_header<'a>(
    secrets: impl IntoIterator<Item = &'a [u8]>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .into_iter()
        .map(|secret| sign(secret, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn matches_the_specification_example() {
        let secret = STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .expect("base64");
        let signature = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn every_secret_signs_and_the_display_form_round_trips() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        let header = signature_header([&a[..], &b[..]], "id", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            parts,
            vec![sign(&a, "id", 1, b"{}"), sign(&b, "id", 1, b"{}")]
        );
        let shown = display_secret(&a);
        let decoded = STANDARD
            .decode(shown.strip_prefix(SECRET_PREFIX).expect("prefix"))
            .expect("base64");
        assert_eq!(decoded, a);
    }
}
