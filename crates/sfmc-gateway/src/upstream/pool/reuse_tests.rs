//! A connection's reuse at its edges: servers closing a kept-alive connection as a request
//! arrives (before any answer, or partway through one), uploads answered early, and a caller
//! dropped while it waits.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::tests::{get, pool, read};
use super::*;

/// A server that answers the first request on each connection, and to a second one on it,
/// after reading it, writes `partial` (part of an answer, or nothing) and closes the connection
/// (a server closing an idle connection just as a request arrives, or failing mid-answer); its
/// address.
async fn closing_on_reuse_server(partial: &'static [u8]) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
                let _ = stream.read(&mut request).await;
                let _ = stream.write_all(partial).await;
            });
        }
    });
    address
}

#[tokio::test]
async fn a_reused_connection_closed_before_answering_is_reported_as_dropped() {
    let address = closing_on_reuse_server(b"").await;
    let pool = pool(address);
    let first = pool.send(get(address)).await.unwrap();
    assert_eq!(read(first).await, "ok");
    match pool.send(get(address)).await {
        Err(UpstreamError::Dropped(reason)) => assert!(!reason.is_empty()),
        other => panic!("expected Dropped, got {:?}", other.map(|r| r.status())),
    }
    // The pool goes on with a new connection.
    let fresh = pool.send(get(address)).await.unwrap();
    assert_eq!(read(fresh).await, "ok");
}

#[tokio::test]
async fn a_request_marked_for_a_new_connection_does_not_take_an_idle_one() {
    // Two idle connections the server closes when they are used again: a request sent again
    // after one was dropped must not meet the other.
    let address = closing_on_reuse_server(b"").await;
    let pool = pool(address);
    let (first, second) = tokio::join!(pool.send(get(address)), pool.send(get(address)));
    assert_eq!(read(first.unwrap()).await, "ok");
    assert_eq!(read(second.unwrap()).await, "ok");
    assert_eq!(pool.idle_count(), 2);
    assert!(matches!(
        pool.send(get(address)).await,
        Err(UpstreamError::Dropped(_))
    ));
    let mut again = get(address);
    again.extensions_mut().insert(NewConnection);
    let answer = pool.send(again).await.unwrap();
    assert_eq!(read(answer).await, "ok");
    assert_eq!(
        pool.idle_count(),
        2,
        "the other idle connection was left alone"
    );
}

#[tokio::test]
async fn a_reused_connection_closed_after_part_of_an_answer_is_a_failure_not_dropped() {
    // The server answered something: it had the request, so it is not to be sent again.
    for partial in [
        &b"HTTP/1.1 200 OK\r\ncontent-"[..],
        &b"HTTP/1.1 100 Continue\r\n\r\n"[..],
    ] {
        let address = closing_on_reuse_server(partial).await;
        let pool = pool(address);
        let first = pool.send(get(address)).await.unwrap();
        assert_eq!(read(first).await, "ok");
        match pool.send(get(address)).await {
            Err(UpstreamError::Failed(reason)) => assert!(!reason.is_empty()),
            other => panic!(
                "{:?}: expected Failed, got {:?}",
                String::from_utf8_lossy(partial),
                other.map(|r| r.status())
            ),
        }
    }
}

/// A server that answers a POST at once with a 401 (`no`) while a task of its own reads the
/// request body to its end (as a server answering before the body is in does), and a GET with
/// `ok`; returns its address, its count of accepted connections and, for each POST body read
/// to its end, its length.
async fn early_answering_server() -> (
    SocketAddr,
    Arc<AtomicUsize>,
    tokio::sync::mpsc::UnboundedReceiver<usize>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    let (bodies, read) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let bodies = bodies.clone();
            let service = service_fn(move |request: Request<Incoming>| {
                let bodies = bodies.clone();
                async move {
                    if request.method() == axum::http::Method::POST {
                        tokio::spawn(async move {
                            if let Ok(body) =
                                axum::body::to_bytes(Body::new(request.into_body()), usize::MAX)
                                    .await
                            {
                                let _ = bodies.send(body.len());
                            }
                        });
                        let response = Response::builder()
                            .status(401)
                            .body(Body::from("no"))
                            .unwrap();
                        return Ok::<_, Infallible>(response);
                    }
                    Ok(Response::new(Body::from("ok")))
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    (address, accepted, read)
}

/// A POST whose body is what `chunks` sends, ending when its sender is dropped.
fn streamed_post(address: SocketAddr) -> (Request<Body>, tokio::sync::mpsc::Sender<Bytes>) {
    let (chunks, receiver) = tokio::sync::mpsc::channel::<Bytes>(1);
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok::<_, Infallible>(chunk), receiver))
    });
    let request = Request::post(format!("http://{address}/upload"))
        .body(Body::from_stream(stream))
        .unwrap();
    (request, chunks)
}

/// A hang guard only: the exchanges it bounds take milliseconds when the pool is right.
const HANG: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_connection_still_sending_a_request_body_does_not_hold_up_the_next_request() {
    let (address, accepted, _bodies) = early_answering_server().await;
    let pool = pool(address);
    let (upload, chunks) = streamed_post(address);
    chunks.send(Bytes::from("part of an upload")).await.unwrap();
    let answer = pool.send(upload).await.unwrap();
    assert_eq!(answer.status(), 401);
    // The answer is read to its end while the caller is still sending the body.
    assert_eq!(read(answer).await, "no");
    let next = tokio::time::timeout(HANG, pool.send(get(address)))
        .await
        .expect("the next request waited for a connection busy with another's upload")
        .unwrap();
    assert_eq!(read(next).await, "ok");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    drop(chunks);
}

#[tokio::test]
async fn a_connection_is_used_again_only_after_the_request_body_it_was_sending_has_ended() {
    let (address, accepted, mut bodies) = early_answering_server().await;
    let pool = pool(address);
    let (upload, chunks) = streamed_post(address);
    chunks.send(Bytes::from("12345")).await.unwrap();
    let answer = pool.send(upload).await.unwrap();
    assert_eq!(read(answer).await, "no");
    // Meanwhile other requests are answered, on another connection, each with its own answer.
    for _ in 0..3 {
        let response = tokio::time::timeout(HANG, pool.send(get(address)))
            .await
            .expect("hung")
            .unwrap();
        assert_eq!(read(response).await, "ok");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    chunks.send(Bytes::from("6789")).await.unwrap();
    drop(chunks);
    assert_eq!(
        bodies.recv().await,
        Some(9),
        "the whole upload reached the server"
    );
    // Both connections are now free; requests keep getting their own answers on them.
    for _ in 0..4 {
        let response = tokio::time::timeout(HANG, pool.send(get(address)))
            .await
            .expect("hung")
            .unwrap();
        assert_eq!(read(response).await, "ok");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_caller_dropped_while_waiting_for_its_answer_leaves_no_broken_connection_behind() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The first connection's request is read and never answered (an upstream that hangs);
    // later connections answer `ok`. `seen` tells when the hanging request has arrived.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (seen, mut arrived) = tokio::sync::mpsc::channel::<()>(1);
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                while stream.read(&mut request).await.is_ok_and(|n| n > 0) {
                    if first {
                        let _ = seen.send(()).await;
                        continue;
                    }
                    let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                    let _ = stream.write_all(answer).await;
                }
            });
        }
    });
    let pool = pool(address);
    {
        // The caller goes away (a timeout, a client hanging up) once its request is upstream.
        let waiting = pool.send(get(address));
        tokio::select! {
            _ = waiting => panic!("the hanging upstream answered"),
            _ = arrived.recv() => {}
        }
    }
    assert_eq!(
        pool.idle_count(),
        0,
        "the abandoned connection is not pooled"
    );
    for _ in 0..2 {
        let response = pool.send(get(address)).await.unwrap();
        assert_eq!(read(response).await, "ok");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}
