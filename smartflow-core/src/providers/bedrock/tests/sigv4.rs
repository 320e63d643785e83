//! SigV4 against AWS's published Signature Version 4 test suite (`aws-sig-v4-test-suite`: the
//! `.req` request, `.creq` canonical request, `.sts` string to sign and `.authz` header of each
//! case; credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, region us-east-1,
//! service `service`, 20150830T123600Z), and against the S3 "GET Object" example of AWS's SigV4
//! header-auth documentation for [`sign`] itself (it always signs `x-amz-content-sha256`, which
//! the generic suite never does).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderName, HeaderValue};
use secrecy::ExposeSecret;

use super::super::sigv4::{
    AwsCredentials, EMPTY_PAYLOAD_SHA256, amz_date, authorization, canonical_query, canonical_request, canonical_uri,
    sha256_hex, sign, string_to_sign, uri_encode,
};

const DATE: &str = "20150830T123600Z";
const SCOPE: &str = "20150830/us-east-1/service/aws4_request";
const TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

fn suite_credentials() -> AwsCredentials {
    AwsCredentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
}

/// One case of the suite: the request, and the published canonical request, the hash line of
/// the string to sign, and the signature.
struct Vector {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    query: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    creq: &'static str,
    sts_hash: &'static str,
    signed_headers: &'static str,
    signature: &'static str,
}

const HOST: (&str, &str) = ("host", "example.amazonaws.com");
const X_AMZ_DATE: (&str, &str) = ("x-amz-date", DATE);

const VECTORS: &[Vector] = &[
    Vector {
        name: "get-vanilla",
        method: "GET",
        path: "/",
        query: "",
        headers: &[HOST, X_AMZ_DATE],
        body: b"",
        creq: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Vector {
        name: "post-vanilla",
        method: "POST",
        path: "/",
        query: "",
        headers: &[HOST, X_AMZ_DATE],
        body: b"",
        creq: "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
        signed_headers: "host;x-amz-date",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    },
    Vector {
        name: "get-vanilla-query-order-key-case",
        method: "GET",
        path: "/",
        query: "Param2=value2&Param1=value1",
        headers: &[HOST, X_AMZ_DATE],
        body: b"",
        creq: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
        signed_headers: "host;x-amz-date",
        signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    },
    Vector {
        name: "get-vanilla-utf8-query",
        method: "GET",
        path: "/",
        query: "\u{1234}=bar",
        headers: &[HOST, X_AMZ_DATE],
        body: b"",
        creq: "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
        signed_headers: "host;x-amz-date",
        signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
    },
    Vector {
        name: "get-utf8",
        method: "GET",
        path: "/\u{1234}",
        query: "",
        headers: &[HOST, X_AMZ_DATE],
        body: b"",
        creq: "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
        signed_headers: "host;x-amz-date",
        signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    },
    Vector {
        name: "normalize-path/get-space",
        method: "GET",
        path: "/example space/",
        query: "",
        headers: &[HOST, X_AMZ_DATE],
        body: b"",
        creq: "GET\n/example%20space/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
        signed_headers: "host;x-amz-date",
        signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
    },
    Vector {
        name: "get-header-value-trim",
        method: "GET",
        path: "/",
        query: "",
        headers: &[HOST, ("my-header1", " value1"), ("my-header2", " \"a   b   c\""), X_AMZ_DATE],
        body: b"",
        creq: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
        signed_headers: "host;my-header1;my-header2;x-amz-date",
        signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    },
    Vector {
        name: "get-header-key-duplicate",
        method: "GET",
        path: "/",
        query: "",
        headers: &[HOST, ("my-header1", "value2"), ("my-header1", "value2"), ("my-header1", "value1"), X_AMZ_DATE],
        body: b"",
        creq: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    },
    Vector {
        name: "post-header-key-sort",
        method: "POST",
        path: "/",
        query: "",
        headers: &[HOST, ("my-header1", "value1"), X_AMZ_DATE],
        body: b"",
        creq: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        sts_hash: "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
        signed_headers: "host;my-header1;x-amz-date",
        signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
    },
    Vector {
        name: "post-x-www-form-urlencoded",
        method: "POST",
        path: "/",
        query: "",
        headers: &[("content-type", "application/x-www-form-urlencoded"), HOST, X_AMZ_DATE],
        body: b"Param1=value1",
        creq: "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
        sts_hash: "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
        signed_headers: "content-type;host;x-amz-date",
        signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    },
    Vector {
        name: "post-sts-token/post-sts-header-before",
        method: "POST",
        path: "/",
        query: "",
        headers: &[HOST, X_AMZ_DATE, ("x-amz-security-token", TOKEN)],
        body: b"",
        creq: concat!(
            "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:",
            "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
            "\n\nhost;x-amz-date;x-amz-security-token\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ),
        sts_hash: "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
        signed_headers: "host;x-amz-date;x-amz-security-token",
        signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
    },
];

fn header_list(headers: &[(&str, &str)]) -> Vec<(HeaderName, HeaderValue)> {
    headers
        .iter()
        .map(|(n, v)| (HeaderName::from_bytes(n.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap()))
        .collect()
}

#[test]
fn aws_test_suite_vectors() {
    let creds = suite_credentials();
    for v in VECTORS {
        let headers = header_list(v.headers);
        let payload = sha256_hex(v.body);
        let (creq, signed) = canonical_request(v.method, v.path, v.query, &headers, &payload);
        assert_eq!(creq, v.creq, "{}: canonical request", v.name);
        assert_eq!(signed, v.signed_headers, "{}", v.name);
        let sts = string_to_sign(DATE, SCOPE, &creq);
        assert_eq!(sts, format!("AWS4-HMAC-SHA256\n{DATE}\n{SCOPE}\n{}", v.sts_hash), "{}: string to sign", v.name);
        let authz = authorization(v.method, v.path, v.query, &headers, &payload, &creds, "us-east-1", "service", DATE);
        assert_eq!(
            authz,
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{SCOPE}, SignedHeaders={}, Signature={}",
                v.signed_headers, v.signature
            ),
            "{}: authorization",
            v.name
        );
    }
}

#[test]
fn sign_matches_the_s3_get_object_example() {
    // AWS SigV4 header-auth documentation, "Example: GET Object": GET /test.txt on
    // examplebucket.s3.amazonaws.com with `Range: bytes=0-9`, empty payload, 20130524T000000Z.
    // (S3 encodes paths once, other services twice; /test.txt is the same either way.)
    let creds = AwsCredentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600);
    let range = [(HeaderName::from_static("range"), HeaderValue::from_static("bytes=0-9"))];
    let headers = sign(
        "GET",
        "examplebucket.s3.amazonaws.com",
        "/test.txt",
        "",
        &range,
        EMPTY_PAYLOAD_SHA256,
        &creds,
        "us-east-1",
        "s3",
        time,
    )
    .unwrap();
    let got: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.to_str().unwrap())).collect();
    assert_eq!(
        got,
        [
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
                 SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
                 Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            ),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-content-sha256", EMPTY_PAYLOAD_SHA256),
        ]
    );
    assert!(headers[0].1.is_sensitive());
}

#[test]
fn sign_adds_and_signs_the_session_token() {
    let creds = suite_credentials().with_session_token(TOKEN);
    let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    let body = br#"{"messages":[]}"#;
    let path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
    let content_type = [(HeaderName::from_static("content-type"), HeaderValue::from_static("application/json"))];
    let headers = sign(
        "POST",
        "bedrock-runtime.us-east-1.amazonaws.com",
        path,
        "",
        &content_type,
        &sha256_hex(body),
        &creds,
        "us-east-1",
        "bedrock",
        time,
    )
    .unwrap();
    let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"]);
    assert_eq!(headers[3].1.to_str().unwrap(), creds.session_token.as_ref().unwrap().expose_secret());
    assert!(headers[3].1.is_sensitive());
    // The same signature, recomputed from the full header list the request carries.
    let mut all = content_type.to_vec();
    all.push((http::header::HOST, HeaderValue::from_static("bedrock-runtime.us-east-1.amazonaws.com")));
    all.extend(headers[1..].iter().cloned());
    let expected = authorization("POST", path, "", &all, &sha256_hex(body), &creds, "us-east-1", "bedrock", DATE);
    assert_eq!(headers[0].1.to_str().unwrap(), expected);
    assert!(expected.contains(
        "Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, \
         SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
    ));
}

#[test]
fn model_ids_are_encoded_once_on_the_wire_and_twice_in_the_canonical_uri() {
    let cases = [
        ("anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1%3A0"),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-v2",
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-v2",
        ),
        ("amazon.titan-text-express-v1", "amazon.titan-text-express-v1"),
        ("a b~c_d", "a%20b~c_d"),
    ];
    for (model, wire) in cases {
        assert_eq!(uri_encode(model, true), wire, "{model}");
        let path = format!("/model/{wire}/converse");
        let canonical = format!("/model/{}/converse", wire.replace('%', "%25"));
        assert_eq!(canonical_uri(&path), canonical, "{model}");
    }
    assert_eq!(canonical_uri(""), "/");
    assert_eq!(uri_encode("a/b", false), "a/b");
    assert_eq!(canonical_query("b=2&a=%2F&a=1&c"), "a=%2F&a=1&b=2&c=");
}

#[test]
fn amz_dates_are_utc_calendar_dates() {
    let cases = [
        (0, "19700101T000000Z"),
        (1_369_353_600, "20130524T000000Z"),
        (1_440_938_160, "20150830T123600Z"),
        (951_782_400, "20000229T000000Z"),
        (4_102_444_799, "20991231T235959Z"),
        (1_709_251_199, "20240229T235959Z"),
    ];
    for (secs, want) in cases {
        assert_eq!(amz_date(UNIX_EPOCH + Duration::from_secs(secs)), want, "{secs}");
    }
    assert_eq!(amz_date(UNIX_EPOCH - Duration::from_secs(5)), "19700101T000000Z");
    assert!(amz_date(SystemTime::now()).starts_with("20"));
}
