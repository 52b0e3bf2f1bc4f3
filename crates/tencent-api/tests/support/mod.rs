//! A tiny HTTP/1.1 server on 127.0.0.1 for the client tests: it records
//! every request and answers from a script, one reply per connection.
#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// HTTP 200 with this JSON text.
    Json(String),
    /// HTTP 200 with this JSON text, gzip-encoded.
    Gzip(String),
    /// This HTTP status with this body.
    Status(u16, String),
    /// Read the whole request, then close without answering.
    Hangup,
}

impl Reply {
    /// A success envelope with extra fields.
    pub fn ok(request_id: &str, fields: serde_json::Value) -> Reply {
        let mut response = match fields {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        response.insert("RequestId".into(), request_id.into());
        Reply::Json(serde_json::json!({ "Response": response }).to_string())
    }

    /// An error envelope.
    pub fn error(code: &str, message: &str, request_id: &str) -> Reply {
        Reply::Json(
            serde_json::json!({
                "Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}
            })
            .to_string(),
        )
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Start a server answering `replies` in order; past the end it answers
    /// the error code `TestServer.Exhausted`, so an unexpected extra
    /// request shows up as a vendor error.
    pub async fn start(replies: Vec<Reply>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            let mut replies = replies.into_iter();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let reply = replies
                    .next()
                    .unwrap_or_else(|| Reply::error("TestServer.Exhausted", "no more replies", "exhausted"));
                // Bounded: a stuck client cannot hold the server forever.
                let _ = tokio::time::timeout(Duration::from_secs(10), serve(stream, reply, &recorded)).await;
            }
        });
        TestServer { addr, requests, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("requests lock").clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, reply: Reply, recorded: &Mutex<Vec<Recorded>>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    recorded.lock().expect("requests lock").push(request);
    let (status, encoding, body) = match reply {
        Reply::Hangup => return,
        Reply::Json(text) => (200, None, text.into_bytes()),
        Reply::Status(code, text) => (code, None, text.into_bytes()),
        Reply::Gzip(text) => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(text.as_bytes()).expect("gzip");
            (200, Some("gzip"), encoder.finish().expect("gzip"))
        }
    };
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    if let Some(encoding) = encoding {
        head.push_str(&format!("content-encoding: {encoding}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&body).await;
    let _ = stream.shutdown().await;
}

async fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}

/// A client configuration for the server at `url`: plain http allowed,
/// a generous rate limit and quick retries, so tests stay fast.
pub fn config_for(url: &str, credentials: tencent_api::Credentials) -> tencent_api::ClientConfig {
    let mut config = tencent_api::ClientConfig::new("tencent-gaap", "gaap", "2018-05-29", credentials);
    config.endpoint = tencent_api::Endpoint::Url(url.to_string());
    config.allow_insecure_http = true;
    config.rate_limit_per_second = 1000.0;
    config.retry = tencent_api::RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(2),
        max_backoff: Duration::from_millis(10),
        max_elapsed: Duration::from_secs(20),
    };
    config.request_timeout = Duration::from_secs(10);
    config
}

pub const SECRET_ID: &str = "AKIDtestsecretidEXAMPLE";
pub const SECRET_KEY: &str = "TopSecretKeyValue-9f8e7d6c5b4a";
pub const TOKEN: &str = "SessionTokenValue-1a2b3c4d5e6f";
