//! Tests of the JWT authenticator, with RSA (openssl CLI), P-256 and Ed25519 (ring) keys
//! generated per run and a tiny JWKS server on 127.0.0.1.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use serde_json::{Value, json};
use smartflow_core::{Authenticator, Credentials, Error, Principal};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::keys::KeySet;
use super::store::cache_max_age;
use super::{ClaimMapping, JwksSource, JwtAuthenticator, JwtConfig, SUPPORTED_ALGORITHMS};

const ISS: &str = "https://idp.example.com/realms/acme";
const AUD: &str = "smartflow";

/// A signing key and its public JWK (without `kid`).
struct Signer {
    alg: Algorithm,
    key: EncodingKey,
    jwk: Value,
}

impl Signer {
    fn jwk(&self, kid: &str) -> Value {
        let mut jwk = self.jwk.clone();
        jwk["kid"] = kid.into();
        jwk["use"] = "sig".into();
        jwk
    }

    fn sign(&self, kid: Option<&str>, claims: &Value) -> String {
        self.sign_as(self.alg, kid, claims)
    }

    fn sign_as(&self, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A 2048-bit RSA key as PKCS#1 DER, from the openssl CLI (`-traditional` is needed on 3.x and
/// unknown on 1.1).
fn rsa_pkcs1_der() -> Vec<u8> {
    let openssl = |args: &[&str], input: Option<&[u8]>| {
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the openssl CLI generates the test RSA key");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.unwrap_or_default()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        out.status.success().then_some(out.stdout)
    };
    let pem = openssl(&["genrsa", "2048"], None).expect("openssl genrsa");
    openssl(&["rsa", "-outform", "DER", "-traditional"], Some(&pem))
        .or_else(|| openssl(&["rsa", "-outform", "DER"], Some(&pem)))
        .expect("openssl rsa")
}

/// One RSA key per test run (generating it is the slow part).
fn rsa() -> &'static Signer {
    static RSA: OnceLock<Signer> = OnceLock::new();
    RSA.get_or_init(|| {
        let key = EncodingKey::from_rsa_der(&rsa_pkcs1_der());
        let mut jwk =
            serde_json::to_value(jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap()).unwrap();
        // No `alg` on the JWK, so the same key serves RS256 and PS256.
        jwk.as_object_mut().unwrap().remove("alg");
        Signer { alg: Algorithm::RS256, key, jwk }
    })
}

fn es256() -> Signer {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let public = pair.public_key().as_ref(); // 0x04 || x || y
    assert_eq!((public.len(), public[0]), (65, 4));
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&public[1..33]), "y": b64(&public[33..65])});
    Signer { alg: Algorithm::ES256, key: EncodingKey::from_ec_der(pkcs8.as_ref()), jwk }
}

fn eddsa() -> Signer {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())});
    Signer { alg: Algorithm::EdDSA, key: EncodingKey::from_ed_der(pkcs8.as_ref()), jwk }
}

fn now() -> i64 {
    i64::try_from(super::claims::now()).unwrap()
}

/// Valid claims for every mapped field.
fn claims() -> Value {
    let now = now();
    json!({
        "iss": ISS, "aud": AUD, "sub": "alice", "exp": now + 300, "iat": now, "nbf": now - 5,
        "team": "search", "org": {"dept": "research"}, "groups": ["eng", "admins"], "tier": "gold",
    })
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}

fn without(mut claims: Value, field: &str) -> Value {
    claims.as_object_mut().unwrap().remove(field);
    claims
}

fn jwks(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}

fn config(source: JwksSource) -> JwtConfig {
    let mut config = JwtConfig::new(ISS, vec![AUD.to_owned(), "other-gateway".to_owned()], source);
    config.algorithms = SUPPORTED_ALGORITHMS.to_vec();
    config.claims = ClaimMapping {
        team: Some("team".to_owned()),
        department: Some("org.dept".to_owned()),
        groups: Some("groups".to_owned()),
        tier: Some("tier".to_owned()),
        admin_groups: vec!["admins".to_owned()],
        ..ClaimMapping::default()
    };
    config
}

fn static_source(keys: &[Value]) -> JwksSource {
    JwksSource::Static(serde_json::from_value::<JwkSet>(jwks(keys)).unwrap())
}

fn authenticator(keys: &[Value]) -> JwtAuthenticator {
    JwtAuthenticator::new(config(static_source(keys))).unwrap()
}

async fn auth(authenticator: &JwtAuthenticator, token: &str) -> Result<Arc<Principal>, Error> {
    authenticator.authenticate(&Credentials::bearer(token)).await
}

#[track_caller]
fn assert_refused(result: Result<Arc<Principal>, Error>) {
    let error = result.expect_err("the token is refused");
    assert_eq!(error.status_code(), 401);
    assert_eq!(error.code(), Some("invalid_token"));
    assert_eq!(error.message(), "the bearer token is invalid or expired");
}

/// Asserts the public refusal and the (logged-only) reason behind it.
async fn assert_refused_because(a: &JwtAuthenticator, token: &str, reason: &str) {
    assert_refused(auth(a, token).await);
    assert_eq!(a.verify(token).await.err(), Some(reason));
}

async fn assert_maps_claims(signer: &Signer) {
    let a = authenticator(&[signer.jwk("k1")]);
    let p = auth(&a, &signer.sign(Some("k1"), &claims())).await.unwrap();
    assert_eq!(p.key_id, "jwt:alice");
    assert_eq!(p.user.as_deref(), Some("alice"));
    assert_eq!(p.team.as_deref(), Some("search"));
    assert_eq!(p.department.as_deref(), Some("research"));
    assert_eq!(p.tier.as_deref(), Some("gold"));
    assert_eq!(p.groups, ["eng", "admins"]);
    assert!(p.admin, "member of an admin group");
}

#[tokio::test]
async fn rs256_token_maps_claims_to_principal() {
    assert_maps_claims(rsa()).await;
}

#[tokio::test]
async fn es256_token_maps_claims_to_principal() {
    assert_maps_claims(&es256()).await;
}

#[tokio::test]
async fn eddsa_token_maps_claims_to_principal() {
    assert_maps_claims(&eddsa()).await;
}

#[tokio::test]
async fn ps256_token_is_accepted() {
    let a = authenticator(&[rsa().jwk("r1")]);
    let token = rsa().sign_as(Algorithm::PS256, Some("r1"), &claims());
    assert_eq!(auth(&a, &token).await.unwrap().key_id, "jwt:alice");
}

#[tokio::test]
async fn non_admin_groups_from_space_separated_string() {
    let ed = eddsa();
    let a = authenticator(&[ed.jwk("k1")]);
    let token = ed.sign(Some("k1"), &with(without(claims(), "team"), "groups", json!("eng  ops")));
    let p = auth(&a, &token).await.unwrap();
    assert_eq!(p.groups, ["eng", "ops"]);
    assert!(!p.admin);
    assert_eq!(p.team, None);
}

#[tokio::test]
async fn expired_token_is_refused() {
    let ed = eddsa();
    let a = authenticator(&[ed.jwk("k1")]);
    assert_refused_because(&a, &ed.sign(Some("k1"), &with(claims(), "exp", json!(now() - 120))), "expired").await;
    // Within the 30 s leeway it still passes.
    assert!(auth(&a, &ed.sign(Some("k1"), &with(claims(), "exp", json!(now() - 10)))).await.is_ok());
}

#[tokio::test]
async fn not_yet_valid_token_is_refused() {
    let ed = eddsa();
    let a = authenticator(&[ed.jwk("k1")]);
    let token = ed.sign(Some("k1"), &with(claims(), "nbf", json!(now() + 600)));
    assert_refused_because(&a, &token, "not yet valid (nbf)").await;
}

#[tokio::test]
async fn token_issued_in_the_future_is_refused() {
    let ed = eddsa();
    let a = authenticator(&[ed.jwk("k1")]);
    let token = ed.sign(Some("k1"), &with(claims(), "iat", json!(now() + 600)));
    assert_refused_because(&a, &token, "issued in the future").await;
    assert_refused(auth(&a, &ed.sign(Some("k1"), &with(claims(), "iat", json!("yesterday")))).await);
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    let ed = eddsa();
    let a = authenticator(&[ed.jwk("k1")]);
    for iss in [json!("https://evil.example.com"), json!(format!("{ISS}/")), json!(null)] {
        assert_refused(auth(&a, &ed.sign(Some("k1"), &with(claims(), "iss", iss))).await);
    }
    // `jsonwebtoken` accepts an array containing the issuer; the exact-string check does not.
    assert_refused_because(&a, &ed.sign(Some("k1"), &with(claims(), "iss", json!([ISS]))), "issuer mismatch").await;
    assert_refused(auth(&a, &ed.sign(Some("k1"), &without(claims(), "iss"))).await);
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let ed = eddsa();
    let a = authenticator(&[ed.jwk("k1")]);
    for aud in [json!("someone-else"), json!(["x", "y"]), json!([])] {
        assert_refused_because(&a, &ed.sign(Some("k1"), &with(claims(), "aud", aud)), "audience mismatch").await;
    }
    assert_refused(auth(&a, &ed.sign(Some("k1"), &without(claims(), "aud"))).await);
    // An audience list containing ours passes.
    assert!(auth(&a, &ed.sign(Some("k1"), &with(claims(), "aud", json!(["x", AUD])))).await.is_ok());
}

#[tokio::test]
async fn missing_exp_is_refused() {
    let ed = eddsa();
    let a = authenticator(&[ed.jwk("k1")]);
    let token = ed.sign(Some("k1"), &without(claims(), "exp"));
    assert_refused_because(&a, &token, "a required claim (exp, iss, aud) is missing").await;
    assert_refused(auth(&a, &ed.sign(Some("k1"), &with(claims(), "exp", json!("tomorrow")))).await);
}

#[tokio::test]
async fn missing_or_malformed_subject_is_refused() {
    let ed = eddsa();
    let a = authenticator(&[ed.jwk("k1")]);
    assert_refused(auth(&a, &ed.sign(Some("k1"), &without(claims(), "sub"))).await);
    for sub in [json!(""), json!(42), json!("a\nb"), json!("x".repeat(300))] {
        assert_refused(auth(&a, &ed.sign(Some("k1"), &with(claims(), "sub", sub))).await);
    }
}

#[tokio::test]
async fn alg_none_token_is_refused() {
    let ed = eddsa();
    let a = authenticator(&[ed.jwk("k1")]);
    let payload = b64(claims().to_string().as_bytes());
    for header in [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"none","kid":"k1"}"#, r#"{"alg":"None"}"#] {
        let token = format!("{}.{payload}.", b64(header.as_bytes()));
        assert!(JwtAuthenticator::looks_like_jwt(&token), "routed to the JWT authenticator");
        assert_refused_because(&a, &token, "malformed token or header").await;
        // Even with a signature copied from a valid token.
        let valid = ed.sign(Some("k1"), &claims());
        let signature = valid.rsplit('.').next().unwrap();
        assert_refused(auth(&a, &format!("{}.{payload}.{signature}", b64(header.as_bytes()))).await);
    }
}

#[tokio::test]
async fn hs256_signed_with_rsa_public_key_is_refused() {
    let rsa = rsa();
    let a = authenticator(&[rsa.jwk("r1")]);
    let n = rsa.jwk["n"].as_str().unwrap();
    let secrets = [URL_SAFE_NO_PAD.decode(n).unwrap(), n.as_bytes().to_vec(), rsa.jwk("r1").to_string().into_bytes()];
    for secret in secrets {
        for kid in [Some("r1"), None] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = kid.map(str::to_owned);
            let token = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&secret)).unwrap();
            assert_refused_because(&a, &token, "algorithm not allowed").await;
        }
    }
}

#[tokio::test]
async fn tampered_payload_is_refused() {
    let rsa = rsa();
    let a = authenticator(&[rsa.jwk("r1")]);
    let token = rsa.sign(Some("r1"), &claims());
    assert!(auth(&a, &token).await.is_ok());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64(with(claims(), "sub", json!("mallory")).to_string().as_bytes());
    assert_refused_because(&a, &format!("{}.{forged}.{}", parts[0], parts[2]), "bad signature").await;
    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    signature[10] ^= 1;
    assert_refused(auth(&a, &format!("{}.{}.{}", parts[0], parts[1], b64(&signature))).await);
}

#[tokio::test]
async fn oversize_token_is_refused() {
    let ed = eddsa();
    let token = ed.sign(Some("k1"), &with(claims(), "pad", json!("x".repeat(20 << 10))));
    assert_refused_because(&authenticator(&[ed.jwk("k1")]), &token, "token too large").await;
    // The size cap is what refused it.
    let mut config = config(static_source(&[ed.jwk("k1")]));
    config.max_token_bytes = 64 << 10;
    assert!(auth(&JwtAuthenticator::new(config).unwrap(), &token).await.is_ok());
}

#[tokio::test]
async fn garbage_tokens_are_refused() {
    let ed = eddsa();
    let a = authenticator(&[ed.jwk("k1")]);
    let valid = ed.sign(Some("k1"), &claims());
    let garbage = [
        "' OR '1'='1".to_owned(),
        "a.b.c".to_owned(),
        String::new(),
        "..".to_owned(),
        "...".to_owned(),
        format!("{valid}.extra"),
        valid.replacen('.', "", 1),
        "eyJhbGciOiJFZERTQSJ9.e30.".to_owned(),
        "\u{0}\u{1}".to_owned(),
        ".".repeat(100_000),
    ];
    for token in &garbage {
        assert_refused(auth(&a, token).await);
    }
    assert_refused(a.authenticate(&Credentials::default()).await);
    // Only the bearer token is considered, never `x-api-key`.
    let api_key_only = Credentials { api_key: Some(valid.clone()), ..Credentials::default() };
    assert_refused(a.authenticate(&api_key_only).await);
}

#[tokio::test]
async fn refusals_never_echo_the_token() {
    let ed = eddsa();
    let a = authenticator(&[ed.jwk("k1")]);
    let token = ed.sign(Some("k1"), &with(claims(), "exp", json!(now() - 3600)));
    let error = auth(&a, &token).await.err().unwrap();
    let signature = token.rsplit('.').next().unwrap();
    for shown in [error.message().to_owned(), format!("{error:?}"), format!("{error}")] {
        assert!(!shown.contains(signature) && !shown.contains("alice"), "{shown}");
    }
}

#[tokio::test]
async fn token_without_kid_uses_the_only_compatible_key() {
    let (ed, ec) = (eddsa(), es256());
    let a = authenticator(&[ed.jwk("k1"), ec.jwk("k2")]);
    assert!(auth(&a, &ed.sign(None, &claims())).await.is_ok());
    assert!(auth(&a, &ec.sign(None, &claims())).await.is_ok());
    // Two Ed25519 keys: a token without kid is ambiguous.
    let a = authenticator(&[ed.jwk("k1"), eddsa().jwk("k3")]);
    assert_refused(auth(&a, &ed.sign(None, &claims())).await);
}

#[tokio::test]
async fn key_type_must_match_the_algorithm() {
    let (ed, ec) = (eddsa(), es256());
    // The kid names the EC key but the token claims EdDSA.
    let a = authenticator(&[ec.jwk("k1")]);
    assert_refused_because(&a, &ed.sign(Some("k1"), &claims()), "no key fits the token's kid and algorithm").await;
    // A JWK restricted to RS256 does not verify PS256 with the same key.
    let a = authenticator(&[with(rsa().jwk("r1"), "alg", json!("RS256"))]);
    assert!(auth(&a, &rsa().sign(Some("r1"), &claims())).await.is_ok());
    let token = rsa().sign_as(Algorithm::PS256, Some("r1"), &claims());
    assert_refused_because(&a, &token, "no key fits the token's kid and algorithm").await;
}

#[tokio::test]
async fn algorithm_outside_the_allow_list_is_refused() {
    let ed = eddsa();
    let mut config = config(static_source(&[ed.jwk("k1")]));
    config.algorithms = vec![Algorithm::RS256];
    let a = JwtAuthenticator::new(config).unwrap();
    assert_refused(auth(&a, &ed.sign(Some("k1"), &claims())).await);
}

#[test]
fn config_refuses_symmetric_algorithms_and_empty_fields() {
    let ed = eddsa();
    let ok = || config(static_source(&[ed.jwk("k1")]));
    assert!(JwtAuthenticator::new(ok()).is_ok());
    assert!(JwtAuthenticator::new(config(JwksSource::Static(JwkSet::default()))).is_err(), "no usable key");
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512, Algorithm::PS512] {
        let mut c = ok();
        c.algorithms.push(alg);
        assert!(JwtAuthenticator::new(c).is_err(), "{alg:?}");
    }
    let mut c = ok();
    c.algorithms.clear();
    assert!(JwtAuthenticator::new(c).is_err());
    let mut c = ok();
    c.audiences.clear();
    assert!(JwtAuthenticator::new(c).is_err());
    let mut c = ok();
    c.issuer = " ".to_owned();
    assert!(JwtAuthenticator::new(c).is_err());
}

#[test]
fn jwks_url_must_be_https_or_loopback_http() {
    let url = |u: &str| JwtAuthenticator::new(config(JwksSource::Url(u.parse().unwrap())));
    assert!(url("https://idp.example.com/keys").is_ok());
    assert!(url("http://127.0.0.1:8080/keys").is_ok());
    assert!(url("http://[::1]:8080/keys").is_ok());
    assert!(url("http://idp.example.com/keys").is_err());
    assert!(url("ftp://idp.example.com/keys").is_err());
}

#[test]
fn jwks_keeps_only_usable_signature_keys() {
    let ed = eddsa();
    let keys = [
        json!({"kty": "oct", "kid": "h", "k": b64(b"secret")}),
        json!({"kty": "RSA", "kid": "weak", "n": b64(&[0xc3; 128]), "e": "AQAB"}),
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "short", "x": b64(&[1; 16])}),
        json!({"kty": "EC", "crv": "P-256", "kid": "bad-ec", "x": b64(&[1; 31]), "y": b64(&[1; 32])}),
        json!({"kty": "EC", "crv": "P-521", "kid": "p521", "x": b64(&[1; 66]), "y": b64(&[1; 66])}),
        with(ed.jwk("enc"), "use", json!("enc")),
        with(ed.jwk("oaep"), "alg", json!("RSA-OAEP")),
        json!({"kty": "weird"}),
        json!("not an object"),
        ed.jwk("good"),
    ];
    let set = KeySet::parse(jwks(&keys).to_string().as_bytes()).unwrap();
    assert_eq!(set.len(), 1);
    assert!(KeySet::parse(b"[]").is_err());
    let many: Vec<Value> = (0..150).map(|i| ed.jwk(&format!("k{i}"))).collect();
    assert_eq!(KeySet::parse(jwks(&many).to_string().as_bytes()).unwrap().len(), super::keys::MAX_KEYS);
}

#[tokio::test]
async fn short_ed25519_key_cannot_panic_the_verifier() {
    // A 16-byte `x` would make the EdDSA verifier slice out of bounds; it is dropped at load.
    let ed = eddsa();
    let a = authenticator(&[json!({"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": b64(&[1; 16])}), ed.jwk("k2")]);
    assert_refused_because(&a, &ed.sign(Some("k1"), &claims()), "unknown kid").await;
}

#[test]
fn cache_control_max_age_is_parsed() {
    let headers = |value: &'static str| {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static(value));
        h
    };
    assert_eq!(cache_max_age(&headers("public, max-age=300")), Some(Duration::from_secs(300)));
    assert_eq!(cache_max_age(&headers("Max-Age=\"60\", must-revalidate")), Some(Duration::from_secs(60)));
    assert_eq!(cache_max_age(&headers("no-cache")), None);
    assert_eq!(cache_max_age(&headers("max-age=-1")), None);
    assert_eq!(cache_max_age(&http::HeaderMap::new()), None);
}

#[test]
fn looks_like_jwt_recognises_jwt_shapes() {
    let ed = eddsa();
    assert!(JwtAuthenticator::looks_like_jwt(&ed.sign(Some("k1"), &claims())));
    for other in ["sk-live-abc123", "a.b.c", "' OR '1'='1", "", "x.y", "e30.e30.e30", "eyJhbGciOiJFZERTQSJ9.e30.a.b"] {
        assert!(!JwtAuthenticator::looks_like_jwt(other), "{other}");
    }
    // `{"alg":"EdDSA"}` with an empty signature still looks like a JWT (and is then refused).
    assert!(JwtAuthenticator::looks_like_jwt("eyJhbGciOiJFZERTQSJ9.e30."));
}

#[test]
fn missing_jwks_file_fails_at_construction() {
    let dir = tempfile::tempdir().unwrap();
    assert!(JwtAuthenticator::new(config(JwksSource::File(dir.path().join("absent.json")))).is_err());
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; super::MAX_JWKS_BYTES + 1]).unwrap();
    assert!(JwtAuthenticator::new(config(JwksSource::File(big))).is_err());
}

#[tokio::test]
async fn unknown_kid_accepted_after_jwks_file_rotation() {
    let (old, new) = (eddsa(), es256());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, jwks(&[old.jwk("old")]).to_string()).unwrap();
    let a = JwtAuthenticator::new(config(JwksSource::File(path.clone()))).unwrap();
    assert!(auth(&a, &old.sign(Some("old"), &claims())).await.is_ok());
    assert_eq!(a.jwks_fetches(), 0);

    std::fs::write(&path, jwks(&[old.jwk("old"), new.jwk("new")]).to_string()).unwrap();
    let p = auth(&a, &new.sign(Some("new"), &claims())).await.unwrap();
    assert_eq!(p.key_id, "jwt:alice");
    assert_eq!(a.jwks_fetches(), 1);
    assert!(auth(&a, &old.sign(Some("old"), &claims())).await.is_ok(), "old key still in the set");
}

#[tokio::test]
async fn unknown_kid_refetches_at_most_once_per_interval() {
    let ed = eddsa();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, jwks(&[ed.jwk("k1")]).to_string()).unwrap();
    let mut config = config(JwksSource::File(path));
    config.refresh_min_interval = Duration::from_millis(300);
    let a = JwtAuthenticator::new(config).unwrap();
    let ghost = ed.sign(Some("ghost"), &claims());
    assert_refused_because(&a, &ghost, "unknown kid").await;
    assert_eq!(a.jwks_fetches(), 1);
    for _ in 0..5 {
        assert_refused(auth(&a, &ghost).await);
    }
    assert_eq!(a.jwks_fetches(), 1, "no refetch within the interval");
    assert!(auth(&a, &ed.sign(Some("k1"), &claims())).await.is_ok());
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_refused(auth(&a, &ghost).await);
    assert_eq!(a.jwks_fetches(), 2, "one refetch once the interval has passed");
}

/// A JWKS endpoint on 127.0.0.1 that counts its hits; `None` as the body answers 500.
struct JwksServer {
    url: http::Uri,
    hits: Arc<AtomicUsize>,
    body: Arc<Mutex<Option<String>>>,
}

async fn jwks_server(body: Value, delay: Duration) -> JwksServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/keys", listener.local_addr().unwrap()).parse().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let body = Arc::new(Mutex::new(Some(body.to_string())));
    let (counter, served) = (hits.clone(), body.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (counter, served) = (counter.clone(), served.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                let body = served.lock().unwrap().clone();
                let response = match body {
                    Some(body) => format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: public, max-age=3600\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                    None => "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_owned(),
                };
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    JwksServer { url, hits, body }
}

/// Runs `n` concurrent authentications of `token`; returns how many passed.
async fn concurrently(a: &Arc<JwtAuthenticator>, token: &str, n: usize) -> usize {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (a, token) = (a.clone(), token.to_owned());
        tasks.spawn(async move { auth(&a, &token).await.is_ok() });
    }
    tasks.join_all().await.into_iter().filter(|ok| *ok).count()
}

#[tokio::test]
async fn url_source_single_flight_for_concurrent_unknown_kids() {
    let (known, unknown) = (eddsa(), eddsa());
    let server = jwks_server(jwks(&[known.jwk("k1")]), Duration::from_millis(100)).await;
    let a = Arc::new(JwtAuthenticator::new(config(JwksSource::Url(server.url.clone()))).unwrap());
    let ghost = unknown.sign(Some("k2"), &claims());
    assert_eq!(concurrently(&a, &ghost, 20).await, 0);
    assert_eq!(server.hits.load(Ordering::SeqCst), 1, "20 concurrent unknown kids share one fetch");
    assert_refused(auth(&a, &ghost).await);
    assert_eq!(server.hits.load(Ordering::SeqCst), 1, "no refetch within refresh_min_interval");
    assert!(auth(&a, &known.sign(Some("k1"), &claims())).await.is_ok());
    assert_eq!(a.jwks_fetches(), 1);
}

#[tokio::test]
async fn url_source_rotated_key_is_fetched_once_for_concurrent_requests() {
    let (first, second) = (eddsa(), es256());
    let server = jwks_server(jwks(&[first.jwk("k1")]), Duration::from_millis(100)).await;
    let mut config = config(JwksSource::Url(server.url.clone()));
    config.refresh_min_interval = Duration::ZERO;
    let a = Arc::new(JwtAuthenticator::new(config).unwrap());
    assert!(auth(&a, &first.sign(Some("k1"), &claims())).await.is_ok());
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);

    *server.body.lock().unwrap() = Some(jwks(&[first.jwk("k1"), second.jwk("k2")]).to_string());
    assert_eq!(concurrently(&a, &second.sign(Some("k2"), &claims()), 20).await, 20);
    assert_eq!(server.hits.load(Ordering::SeqCst), 2, "the rotation is fetched once");
}

#[tokio::test]
async fn failed_refresh_keeps_last_good_keys() {
    let ed = eddsa();
    let server = jwks_server(jwks(&[ed.jwk("k1")]), Duration::ZERO).await;
    let mut config = config(JwksSource::Url(server.url.clone()));
    config.refresh_min_interval = Duration::ZERO;
    config.jwks_max_age = Duration::ZERO; // every request re-fetches
    let a = JwtAuthenticator::new(config).unwrap();
    let token = ed.sign(Some("k1"), &claims());
    assert!(auth(&a, &token).await.is_ok());
    *server.body.lock().unwrap() = None;
    assert!(auth(&a, &token).await.is_ok(), "the endpoint fails: last good keys still verify");
    *server.body.lock().unwrap() = Some(jwks(&[]).to_string());
    assert!(auth(&a, &token).await.is_ok(), "an empty set does not replace good keys");
    assert_eq!(server.hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn unreachable_jwks_url_refuses_tokens() {
    let ed = eddsa();
    // Bind then drop a listener: nothing answers on that port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/keys").parse().unwrap();
    let a = JwtAuthenticator::new(config(JwksSource::Url(url))).unwrap();
    assert_refused(auth(&a, &ed.sign(Some("k1"), &claims())).await);
    assert_refused(auth(&a, &ed.sign(Some("k1"), &claims())).await);
    assert_eq!(a.jwks_fetches(), 1, "a failed fetch also waits refresh_min_interval");
}
