//! The fake gateway: a websocket at `/ws` that says HELLO, answers IDENTIFY with READY (and a
//! GUILD_CREATE per registered guild), RESUME with RESUMED, heartbeats with acks, and carries the
//! dispatches tests send.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::payloads;
use crate::record::Direction;
use crate::state::{Outgoing, Session, Shared, State as FakeState};

/// Upgrades `/ws` to a websocket gateway connection.
pub(crate) async fn ws_handler(
    State(shared): State<Arc<Shared>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(64 << 20)
        .on_upgrade(move |socket| run_connection(shared, socket))
}

async fn run_connection(shared: Arc<Shared>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    let conn_id = {
        let mut st = shared.lock();
        st.next_connection += 1;
        let id = st.next_connection;
        st.connections.insert(id, tx.clone());
        id
    };
    let hello =
        json!({"op": 10, "d": {"heartbeat_interval": shared.options.heartbeat_interval_ms}});
    {
        let mut st = shared.lock();
        shared.record_frame(&mut st, conn_id, Direction::Sent, hello.clone());
    }
    shared.notify();
    let mut shutdown = shared.shutdown.subscribe();
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_ok()
    {
        loop {
            tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => handle_frame(&shared, conn_id, &tx, text.as_str()),
                    Some(Ok(Message::Binary(bytes))) => {
                        handle_frame(&shared, conn_id, &tx, &String::from_utf8_lossy(&bytes));
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                out = rx.recv() => match out {
                    Some(Outgoing::Text(text)) => {
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    Some(Outgoing::Close(code, reason)) => {
                        let frame = CloseFrame { code, reason: reason.into() };
                        let _ = socket.send(Message::Close(Some(frame))).await;
                        break;
                    }
                    None => break,
                },
                _ = stopped(&mut shutdown) => break,
            }
        }
    }
    {
        let mut st = shared.lock();
        st.connections.remove(&conn_id);
        for session in st.sessions.values_mut() {
            if session.conn.as_ref().is_some_and(|(id, _)| *id == conn_id) {
                session.conn = None;
            }
        }
    }
    shared.notify();
}

/// Resolves once the fake is shutting down.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

fn send_direct(
    shared: &Shared,
    st: &mut FakeState,
    conn_id: u64,
    tx: &mpsc::UnboundedSender<Outgoing>,
    payload: Value,
) {
    let _ = tx.send(Outgoing::Text(payload.to_string()));
    shared.record_frame(st, conn_id, Direction::Sent, payload);
}

fn handle_frame(
    shared: &Arc<Shared>,
    conn_id: u64,
    tx: &mpsc::UnboundedSender<Outgoing>,
    text: &str,
) {
    let payload: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => json!({"op": null, "unparsed": text}),
    };
    let op = payload.get("op").and_then(Value::as_u64);
    let d = payload.get("d").cloned().unwrap_or(Value::Null);
    let mut st = shared.lock();
    shared.record_frame(&mut st, conn_id, Direction::Received, payload);
    match op {
        Some(1) => send_direct(shared, &mut st, conn_id, tx, json!({"op": 11})),
        Some(2) => identify(shared, &mut st, conn_id, tx, &d),
        Some(6) => resume(shared, &mut st, conn_id, tx, &d),
        _ => {}
    }
    drop(st);
    shared.notify();
}

fn identify(
    shared: &Arc<Shared>,
    st: &mut FakeState,
    conn_id: u64,
    tx: &mpsc::UnboundedSender<Outgoing>,
    d: &Value,
) {
    st.sessions_started += 1;
    st.identifies += 1;
    let shard = d
        .get("shard")
        .and_then(Value::as_array)
        .filter(|a| a.len() == 2)
        .map(|a| {
            [
                a[0].as_u64().unwrap_or(0) as u32,
                a[1].as_u64().unwrap_or(1) as u32,
            ]
        })
        .unwrap_or([0, 1]);
    st.identified_shards.push(shard);
    if shard[1] != st.shard_count || shard[0] >= shard[1] {
        // Discord closes such a connection with 4010, Invalid shard.
        st.shard_refusals.push(format!(
            "IDENTIFY named shard {shard:?}, but GET /gateway/bot said {} shard(s)",
            st.shard_count
        ));
        let _ = tx.send(Outgoing::Close(4010, "Invalid shard".to_owned()));
        return;
    }
    let session_id = format!("fake-session-{}-{}", shared.port, st.sessions_started);
    st.sessions.insert(
        shard[0],
        Session {
            session_id: session_id.clone(),
            seq: 0,
            conn: Some((conn_id, tx.clone())),
            shard,
        },
    );
    let guild_ids: Vec<u64> = st
        .guilds
        .keys()
        .copied()
        .filter(|g| st.shard_of(*g) == shard[0])
        .collect();
    let ready = payloads::ready(
        &shared.bot,
        shared.application_id,
        &session_id,
        &shared.gateway_url(),
        shard,
        &guild_ids,
    );
    let guilds: Vec<Value> = guild_ids
        .iter()
        .filter_map(|g| st.guilds.get(g))
        .map(payloads::guild_create)
        .collect();
    let _ = shared.dispatch_to_shard(st, shard[0], "READY", ready);
    for g in guilds {
        let _ = shared.dispatch_locked(st, "GUILD_CREATE", g);
    }
}

fn resume(
    shared: &Arc<Shared>,
    st: &mut FakeState,
    conn_id: u64,
    tx: &mpsc::UnboundedSender<Outgoing>,
    d: &Value,
) {
    let wanted = d.get("session_id").and_then(Value::as_str).unwrap_or("");
    match st.sessions.values_mut().find(|s| s.session_id == wanted) {
        Some(session) => {
            session.conn = Some((conn_id, tx.clone()));
            let _ = shared.dispatch_locked(st, "RESUMED", json!({"_trace": ["fake-discord"]}));
        }
        _ => send_direct(shared, st, conn_id, tx, json!({"op": 9, "d": false})),
    }
}
