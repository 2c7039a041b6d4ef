//! Fetching an attached file: at most a limit plus one byte, read as it
//! streams in, the HTTP status checked, the whole fetch under a deadline.

use std::time::Duration;

/// How long fetching an attachment may take, start to end.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a fetch gave no file. Each reads as a short reason in parentheses.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the file is over {limit} bytes")]
    TooLarge { limit: usize },
    #[error("HTTP {0}")]
    Status(u16),
    #[error("it took over {} s", .0.as_secs())]
    TimedOut(Duration),
    #[error("{0}")]
    Network(String),
}

/// The body at `url`, if it is at most `limit` bytes and arrives within
/// `timeout`. A declared length over the limit is refused before reading;
/// a body that runs past it is refused as soon as it does.
pub async fn fetch_capped(
    url: &str,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, FetchError> {
    // reqwest's errors name the URL, which carries Discord's signed query:
    // it is left out of what a person is shown.
    let network = |error: reqwest::Error| FetchError::Network(error.without_url().to_string());
    let fetch = async {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(network)?;
        let mut response = client.get(url).send().await.map_err(network)?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(FetchError::TooLarge { limit });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(network)? {
            if bytes.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    };
    tokio::time::timeout(timeout, fetch)
        .await
        .map_err(|_| FetchError::TimedOut(timeout))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Serves one connection on 127.0.0.1: reads the request, then writes
    /// `head` and `body_chunks`, pausing `pause` before each chunk.
    async fn serve(head: String, body_chunks: Vec<Vec<u8>>, pause: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let url = format!(
            "http://{}/file.txt",
            listener.local_addr().expect("an address")
        );
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let _ = socket.write_all(head.as_bytes()).await;
            for chunk in body_chunks {
                tokio::time::sleep(pause).await;
                if socket.write_all(&chunk).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        url
    }

    #[tokio::test]
    async fn a_body_longer_than_the_limit_is_refused_whatever_length_was_declared() {
        // Declares nothing (chunked) and streams 64 KiB chunks forever.
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n".to_owned();
        let chunks = vec![vec![b'a'; 64 * 1024]; 40];
        let url = serve(head, chunks, Duration::ZERO).await;
        let result = fetch_capped(&url, 100_000, Duration::from_secs(10)).await;
        assert!(
            matches!(result, Err(FetchError::TooLarge { limit: 100_000 })),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 5000000\r\n\r\n".to_owned();
        let url = serve(head, vec![], Duration::ZERO).await;
        let result = fetch_capped(&url, 100_000, Duration::from_secs(10)).await;
        assert!(
            matches!(result, Err(FetchError::TooLarge { .. })),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_download_that_stalls_ends_at_its_deadline() {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n".to_owned();
        let url = serve(head, vec![b"abc".to_vec()], Duration::from_secs(20)).await;
        let started = std::time::Instant::now();
        let result = fetch_capped(&url, 100_000, Duration::from_millis(300)).await;
        assert!(matches!(result, Err(FetchError::TimedOut(_))), "{result:?}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "it did not wait for the server"
        );
    }

    #[tokio::test]
    async fn an_error_status_is_not_taken_for_the_file() {
        let head = "HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nnot found".to_owned();
        let url = serve(head, vec![], Duration::ZERO).await;
        let result = fetch_capped(&url, 100_000, Duration::from_secs(10)).await;
        assert!(matches!(result, Err(FetchError::Status(404))), "{result:?}");
    }

    #[tokio::test]
    async fn a_file_within_the_limit_arrives_whole() {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n".to_owned();
        let url = serve(
            head,
            vec![b"abc".to_vec(), b"def".to_vec()],
            Duration::from_millis(10),
        )
        .await;
        let bytes = fetch_capped(&url, 6, Duration::from_secs(10))
            .await
            .expect("fetched");
        assert_eq!(bytes, b"abcdef");
    }
}
