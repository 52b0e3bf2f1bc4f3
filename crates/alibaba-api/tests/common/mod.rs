//! A tiny scripted HTTP/1.1 server on 127.0.0.1 for the client tests.
//!
//! Each connection carries one request: the server records it, answers with
//! the next scripted reply (or closes without answering, to simulate a lost
//! answer) and closes the connection. It stops when dropped.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alibaba_api::sign::{parse_authorization, sign, SignInput};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Answer with this status, extra headers and body.
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Read the request, then close the connection without answering.
    Drop,
}

impl Reply {
    pub fn ok(body: &str) -> Reply {
        Reply::Answer {
            status: 200,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    pub fn error(status: u16, code: &str, request_id: &str) -> Reply {
        Reply::Answer {
            status,
            headers: Vec::new(),
            body: format!(
                r#"{{"RequestId":"{request_id}","HostId":"alb.cn-hangzhou.aliyuncs.com","Code":"{code}","Message":"canned {code}","Recommend":"https://example.invalid/diag"}}"#
            ),
        }
    }

    pub fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Answer {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_string(), value.to_string()));
                Reply::Answer { status, headers, body }
            }
            Reply::Drop => Reply::Drop,
        }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, exactly as sent (no leading `?`).
    pub query: String,
    /// Header names lower-cased, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The query decoded into raw pairs, as a server decodes a query
    /// (`+` a space; the client sends spaces as `%20` anyway).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_bytes()).into_owned().collect()
    }

    pub fn param(&self, name: &str) -> Option<String> {
        self.query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Re-derive the signature with the crate's signer from what arrived,
    /// as the real service does: the headers the request says it signed,
    /// the query as received, the body as received.
    pub fn signature_is_valid(&self, access_key_secret: &str) -> bool {
        let Some(auth) = self.header("authorization").and_then(parse_authorization) else {
            return false;
        };
        let mut signed: Vec<(&str, &str)> = Vec::new();
        for name in &auth.signed_headers {
            match self.header(name) {
                Some(value) => signed.push((name.as_str(), value)),
                None => return false,
            }
        }
        let pairs = self.query_pairs();
        let result = sign(
            &SignInput {
                method: &self.method,
                path: &self.path,
                query: &pairs,
                headers: &signed,
                payload: &self.body,
            },
            &auth.access_key_id,
            access_key_secret,
        );
        result.canonical_query == self.query && result.signature == auth.signature
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Start on 127.0.0.1 with an OS-assigned port.
    pub async fn start(script: Vec<Reply>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let (tx, mut rx) = oneshot::channel::<()>();
        let recorded = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { break };
                        // One connection at a time keeps the script order
                        // equal to the request order.
                        let _ = tokio::time::timeout(
                            Duration::from_secs(10),
                            serve_one(stream, &recorded, &script),
                        )
                        .await;
                    }
                }
            }
        });
        TestServer {
            addr,
            requests,
            shutdown: Some(tx),
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }

    /// Stop accepting and wait for the server task to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.task).await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

async fn serve_one(mut stream: TcpStream, recorded: &Arc<Mutex<Vec<Recorded>>>, script: &Arc<Mutex<VecDeque<Reply>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > 64 * 1024 {
            return;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let content_length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < content_length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    recorded.lock().expect("lock").push(Recorded {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body,
    });
    let reply = script.lock().expect("lock").pop_front().unwrap_or(Reply::Answer {
        status: 599,
        headers: Vec::new(),
        body: r#"{"Code":"TestScriptExhausted","Message":"no reply scripted","RequestId":"none"}"#.to_string(),
    });
    match reply {
        Reply::Drop => {
            let _ = stream.shutdown().await;
        }
        Reply::Answer { status, headers, body } => {
            let mut out = format!(
                "HTTP/1.1 {status} Canned\r\ncontent-type: application/json;charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let _ = stream.write_all(out.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A regional product as its adapter describes it (ALB's shape, without
/// its write budgets, which are the adapter's business).
#[allow(dead_code)]
pub const ALB: alibaba_api::Product = alibaba_api::Product {
    vendor: "alibaba-alb",
    code: "alb",
    version: "2020-06-16",
    rate_limit_per_second: 20.0,
    action_limits: &[],
    api_region: None,
};

/// A product served from one region (GA's shape).
#[allow(dead_code)]
pub const GA: alibaba_api::Product = alibaba_api::Product {
    vendor: "alibaba-ga",
    code: "ga",
    version: "2019-11-20",
    rate_limit_per_second: alibaba_api::client::DEFAULT_RATE_LIMIT_PER_SECOND,
    action_limits: &[],
    api_region: Some("cn-hangzhou"),
};
