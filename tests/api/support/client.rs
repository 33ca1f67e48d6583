//! A small request builder over reqwest and a response with assertion helpers.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::TestApp;

pub struct Req<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    /// The body and, unless set as a header, its content type.
    body: Option<(Option<String>, Vec<u8>)>,
}

impl<'a> Req<'a> {
    pub fn new(app: &'a TestApp, method: Method, path: &str) -> Self {
        Self {
            app,
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn header(self, name: &str, value: &str) -> Self {
        self.header_bytes(name, value.as_bytes())
    }

    /// A header whose value is any bytes HTTP can carry (obs-text included), for testing how
    /// unparseable values are handled.
    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.push((name.to_owned(), value.to_vec()));
        self
    }

    pub fn json(self, body: Value) -> Self {
        self.raw("application/json", body.to_string().into_bytes())
    }

    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.body = Some((Some(content_type.to_owned()), body));
        self
    }

    /// A body whose content type, if any, is one of the headers.
    pub fn raw_body(mut self, body: Vec<u8>) -> Self {
        self.body = Some((None, body));
        self
    }

    pub async fn send(self) -> TestResponse {
        let mut req = self
            .app
            .http
            .request(self.method.clone(), self.app.url(&self.path));
        for (name, value) in &self.headers {
            let value = reqwest::header::HeaderValue::from_bytes(value)
                .expect("a value HTTP can carry (no CR, LF or NUL)");
            req = req.header(name, value);
        }
        if let Some((content_type, body)) = self.body {
            if let Some(content_type) = content_type {
                req = req.header("content-type", content_type);
            }
            req = req.body(body);
        }
        let resp = req.send().await.expect("the request completes");
        TestResponse::read(resp).await
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl TestResponse {
    pub async fn read(resp: reqwest::Response) -> Self {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("a readable body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            text,
            body,
        }
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts the error envelope: status, code, a message, and the request id of the header.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        self.assert_status(status);
        let error = self
            .body
            .get("error")
            .unwrap_or_else(|| panic!("no error envelope in {}", self.text));
        assert_eq!(error["code"], code, "body: {}", self.text);
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "message missing: {}",
            self.text
        );
        let header_id = self
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .expect("an x-request-id header");
        assert_eq!(error["request_id"], header_id, "request ids differ");
        let keys: Vec<&String> = error.as_object().expect("object").keys().collect();
        for key in keys {
            assert!(
                ["code", "message", "request_id", "details"].contains(&key.as_str()),
                "unexpected key {key} in {}",
                self.text
            );
        }
        self
    }

    /// The `field` of each entry of `details`.
    pub fn detail_fields(&self) -> Vec<String> {
        self.body["error"]["details"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A string at a JSON pointer.
    #[track_caller]
    pub fn str(&self, pointer: &str) -> String {
        self.body
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no string at {pointer} in {}", self.text))
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}
