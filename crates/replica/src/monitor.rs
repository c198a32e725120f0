//! The durability check: each server's monitoring endpoint (`/varz`) must
//! say that JetStream fsyncs before it acknowledges (`sync_always`). A
//! plain HTTP/1.0 GET over TCP: the endpoint is the server's own, on the
//! node's network, and one request at open needs no HTTP client library.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{Error, Result};

/// The monitoring endpoints to check: those configured, else each server's
/// host with its client port plus 4000 (NATS's defaults, 4222 and 8222).
pub fn endpoints(servers: &[String], configured: &[String]) -> Result<Vec<String>> {
    if !configured.is_empty() {
        return Ok(configured.to_vec());
    }
    servers
        .iter()
        .map(|server| {
            let address = server
                .split_once("://")
                .map_or(server.as_str(), |(_, rest)| rest)
                .trim_end_matches('/');
            let (host, port) = address
                .rsplit_once(':')
                .ok_or_else(|| Error::Config(format!("the server URL {server} has no port")))?;
            let port: u16 = port.parse().map_err(|_| {
                Error::Config(format!("the server URL {server} has no port number"))
            })?;
            let monitor = port.checked_add(4000).ok_or_else(|| {
                Error::Config(format!(
                    "the server URL {server}'s monitoring port cannot be guessed; give it"
                ))
            })?;
            Ok(format!("http://{host}:{monitor}"))
        })
        .collect()
}

/// Refuses a server whose `/varz` does not say `sync_always: true`.
pub async fn check_durable(monitor: &str, timeout: Duration) -> Result<()> {
    let failed = |reason: String| Error::Monitor {
        monitor: monitor.to_string(),
        reason,
    };
    let address = monitor
        .strip_prefix("http://")
        .ok_or_else(|| failed("only http:// endpoints are read".to_string()))?
        .trim_end_matches('/');
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    let request = async {
        let mut stream = TcpStream::connect(address).await?;
        stream
            .write_all(format!("GET /varz HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(timeout, request)
        .await
        .map_err(|_| failed(format!("no answer within {} ms", timeout.as_millis())))?
        .map_err(|error| failed(error.to_string()))?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| failed("the answer is not HTTP".to_string()))?;
    if !head.starts_with("HTTP/1.") || head.split_whitespace().nth(1).is_none_or(|s| s != "200") {
        return Err(failed(format!(
            "it answered {}",
            head.lines().next().unwrap_or_default()
        )));
    }
    let varz: serde_json::Value =
        serde_json::from_str(body).map_err(|error| failed(format!("its JSON: {error}")))?;
    let config = &varz["jetstream"]["config"];
    if config.is_null() {
        return Err(failed("the server runs without JetStream".to_string()));
    }
    if config["sync_always"].as_bool() == Some(true) {
        Ok(())
    } else {
        Err(Error::NotDurable {
            monitor: monitor.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitoring_endpoints_default_to_the_client_port_plus_4000() {
        let servers = vec![
            "nats://127.0.0.1:4222".to_string(),
            "127.0.0.1:14223".to_string(),
        ];
        assert_eq!(
            endpoints(&servers, &[]).unwrap(),
            vec!["http://127.0.0.1:8222", "http://127.0.0.1:18223"]
        );
        let configured = vec!["http://127.0.0.2:9000".to_string()];
        assert_eq!(endpoints(&servers, &configured).unwrap(), configured);
        let error = endpoints(&["nats://host".to_string()], &[]).unwrap_err();
        assert!(error.to_string().contains("has no port"), "{error}");
    }
}
