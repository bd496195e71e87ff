//! The pool against a loopback HTTP/1 server that counts its connections.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use http_body::Body as _;

use super::*;

/// How the test server answers.
#[derive(Clone, Copy)]
enum Answer {
    /// `ok`, keeping the connection.
    Short,
    /// `ok` with `Connection: close`.
    Closing,
    /// 4 MiB, keeping the connection.
    Long,
    /// The request's path and query, after reading its body.
    Echo,
}

/// A server on this runtime; returns its address and its count of accepted connections.
async fn server(answer: Answer) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let service = service_fn(move |request: Request<hyper::body::Incoming>| async move {
                let target = request.uri().to_string();
                let body = Body::new(request.into_body());
                let response = match answer {
                    Answer::Echo => {
                        let _ = axum::body::to_bytes(body, usize::MAX).await;
                        Response::new(Body::from(target))
                    }
                    Answer::Short => Response::new(Body::from("ok")),
                    Answer::Closing => Response::builder()
                        .header(header::CONNECTION, "close")
                        .body(Body::from("ok"))
                        .unwrap(),
                    Answer::Long => Response::new(Body::from(vec![b'x'; 4 << 20])),
                };
                Ok::<_, Infallible>(response)
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    (address, accepted)
}

pub(super) fn pool(address: SocketAddr) -> Arc<Pool> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        )
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let origin = Uri::try_from(format!("http://{address}/")).unwrap();
    let host = HeaderValue::try_from(address.to_string()).unwrap();
    Arc::new(Pool::new(connector, origin, host))
}

pub(super) fn get(address: SocketAddr) -> Request<Body> {
    Request::get(format!("http://{address}/x?y=1"))
        .body(Body::empty())
        .unwrap()
}

pub(super) async fn read(response: Response<Body>) -> Bytes {
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
}

#[tokio::test]
async fn answers_read_to_their_end_give_their_connection_back() {
    let (address, accepted) = server(Answer::Short).await;
    let pool = pool(address);
    for _ in 0..5 {
        let response = pool.send(get(address)).await.unwrap();
        assert_eq!(read(response).await, "ok");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(pool.idle_count(), 1);
}

#[tokio::test]
async fn concurrent_requests_each_get_a_connection_and_all_come_back() {
    let (address, accepted) = server(Answer::Short).await;
    let pool = pool(address);
    let sends = (0..8).map(|_| pool.send(get(address)));
    let responses = futures_util::future::try_join_all(sends).await.unwrap();
    assert_eq!(accepted.load(Ordering::SeqCst), 8);
    for response in responses {
        assert_eq!(read(response).await, "ok");
    }
    assert_eq!(pool.idle_count(), 8);
    let response = pool.send(get(address)).await.unwrap();
    assert_eq!(read(response).await, "ok");
    assert_eq!(accepted.load(Ordering::SeqCst), 8);
}

#[tokio::test]
async fn every_caller_gets_its_own_answer_over_reused_connections() {
    let (address, accepted) = server(Answer::Echo).await;
    let pool = pool(address);
    let callers = (0..16).map(|caller| {
        let pool = pool.clone();
        async move {
            for round in 0..20 {
                let target = format!("/caller/{caller}?round={round}");
                let request = Request::post(format!("http://{address}{target}"))
                    .body(Body::from(vec![b'x'; 1000 * caller]))
                    .unwrap();
                let answer = read(pool.send(request).await.unwrap()).await;
                assert_eq!(answer, target.as_bytes());
            }
        }
    });
    futures_util::future::join_all(callers).await;
    assert!(
        accepted.load(Ordering::SeqCst) <= 16,
        "connections were reused"
    );
}

#[tokio::test]
async fn an_answer_dropped_before_its_end_takes_its_connection_along() {
    let (address, accepted) = server(Answer::Long).await;
    let pool = pool(address);
    let mut body = pool.send(get(address)).await.unwrap().into_body();
    let first = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
        .await
        .unwrap()
        .unwrap();
    assert!(first.data_ref().is_some_and(|data| data.len() < 4 << 20));
    drop(body);
    assert_eq!(pool.idle_count(), 0);
    let response = pool.send(get(address)).await.unwrap();
    assert_eq!(read(response).await.len(), 4 << 20);
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    assert_eq!(pool.idle_count(), 1);
}

#[tokio::test]
async fn connections_the_server_closes_are_not_used_again() {
    let (address, accepted) = server(Answer::Closing).await;
    let pool = pool(address);
    for _ in 0..3 {
        let response = pool.send(get(address)).await.unwrap();
        assert_eq!(read(response).await, "ok");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_request_meeting_a_connection_closed_while_idle_is_sent_on_a_new_one() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Answers one request per connection, then closes it without saying so beforehand.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await;
        }
    });
    let pool = pool(address);
    for _ in 0..3 {
        let response = pool.send(get(address)).await.unwrap();
        assert_eq!(read(response).await, "ok");
        tokio::task::yield_now().await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_connection_idle_too_long_is_replaced() {
    let (address, accepted) = server(Answer::Short).await;
    let pool = pool(address);
    let response = pool.send(get(address)).await.unwrap();
    assert_eq!(read(response).await, "ok");
    tokio::time::pause();
    tokio::time::advance(IDLE_TIMEOUT).await;
    tokio::time::resume();
    let response = pool.send(get(address)).await.unwrap();
    assert_eq!(read(response).await, "ok");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    assert_eq!(pool.idle_count(), 1, "the expired connection is not kept");
}

#[tokio::test]
async fn an_unreachable_origin_is_a_connect_failure() {
    // Port 1: nothing listens there (a port freed here could be taken by a parallel test).
    let address = SocketAddr::from(([127, 0, 0, 1], 1));
    let Err(UpstreamError::Failed(reason)) = pool(address).send(get(address)).await else {
        panic!("a closed port answered");
    };
    assert!(reason.contains("connect"), "{reason}");
}
