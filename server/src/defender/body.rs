//! Reading response bodies with a size cap, so a broken or hostile host cannot make the
//! client buffer without bound. A body over the cap is refused as soon as its declared
//! length or its bytes so far pass it.

/// Why a body was not read.
#[derive(Debug)]
pub(crate) enum BodyError {
    TooLarge,
    Read(reqwest::Error),
}

/// The whole body of `resp`, at most `cap` bytes.
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    let declared = resp.content_length();
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    // The declared length is only a hint (it can lie), so it never sizes more than the cap.
    let hint = declared.map_or(0, |n| n as usize).min(cap);
    let mut body = Vec::with_capacity(hint);
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Answers one request with `head` and then `body_len` bytes of `x`, chunked when `head`
    /// declares no length.
    async fn serve_once(head: &'static str, body_len: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(head.as_bytes()).await;
            let chunked = head.contains("chunked");
            let mut left = body_len;
            while left > 0 {
                let n = left.min(4096);
                let data = vec![b'x'; n];
                let written = if chunked {
                    let mut framed = format!("{n:x}\r\n").into_bytes();
                    framed.extend_from_slice(&data);
                    framed.extend_from_slice(b"\r\n");
                    socket.write_all(&framed).await
                } else {
                    socket.write_all(&data).await
                };
                if written.is_err() {
                    return;
                }
                left -= n;
            }
            if chunked {
                let _ = socket.write_all(b"0\r\n\r\n").await;
            }
        });
        format!("http://{addr}/")
    }

    async fn get(url: &str, cap: usize) -> Result<Vec<u8>, BodyError> {
        let resp = reqwest::get(url).await.unwrap();
        read_capped(resp, cap).await
    }

    #[tokio::test]
    async fn a_body_within_the_cap_is_read_whole() {
        let url = serve_once(
            "HTTP/1.1 200 OK\r\ncontent-length: 10000\r\nconnection: close\r\n\r\n",
            10_000,
        )
        .await;
        assert_eq!(get(&url, 10_000).await.unwrap().len(), 10_000);
    }

    #[tokio::test]
    async fn a_declared_length_over_the_cap_is_refused_unread() {
        let url = serve_once(
            "HTTP/1.1 200 OK\r\ncontent-length: 50000\r\nconnection: close\r\n\r\n",
            50_000,
        )
        .await;
        assert!(matches!(get(&url, 1_000).await, Err(BodyError::TooLarge)));
    }

    #[tokio::test]
    async fn an_undeclared_body_stops_at_the_cap() {
        let url = serve_once(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
            1 << 20,
        )
        .await;
        assert!(matches!(
            get(&url, 64 * 1024).await,
            Err(BodyError::TooLarge)
        ));
    }
}
