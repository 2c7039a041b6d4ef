//! Slash-command ATTACHMENT options (type 11): the fake puts the attachment in
//! `data.resolved.attachments`, points its URL at itself and serves the bytes, so a real
//! serenity 0.12.5 + poise 0.7.1 bot can take a `serenity::Attachment` argument and
//! `download()` it.

use fake_discord::{
    CommandCall, CommandOption, FakeAttachment, FakeChannel, FakeDiscord, FakeGuild, FakeMember,
    FakeUser, Invoker,
};
use poise::serenity_prelude as serenity;
use serde_json::json;

mod common;

use common::{BotError, Ctx, WAIT, assert_no_violations, start_bot};

/// Prayer list.
#[poise::command(slash_command, subcommands("import"))]
async fn prayer(_ctx: Ctx<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Imports a prayer list from a file.
#[poise::command(slash_command)]
async fn import(
    ctx: Ctx<'_>,
    #[description = "The list"] file: serenity::Attachment,
) -> Result<(), BotError> {
    let bytes = file.download().await?;
    ctx.send(
        poise::CreateReply::default()
            .content(format!(
                "imported {} ({} bytes, {}): {}",
                file.filename,
                bytes.len(),
                file.content_type.as_deref().unwrap_or("?"),
                String::from_utf8_lossy(&bytes)
            ))
            .allowed_mentions(serenity::CreateAllowedMentions::new()),
    )
    .await?;
    Ok(())
}

fn options() -> poise::FrameworkOptions<common::Data, BotError> {
    poise::FrameworkOptions {
        commands: vec![prayer()],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_poise_attachment_argument_downloads_the_file_from_the_fake() {
    let fake = FakeDiscord::start().await;
    let guild = fake.next_id();
    let channel = fake.next_id();
    let user = FakeUser::new(fake.next_id(), "alice");
    fake.add_guild(
        FakeGuild::new(guild, "Parish", user.id)
            .with_channel(FakeChannel::text(channel, "prayers"))
            .with_member(FakeMember::new(user.clone())),
    );
    let bot = start_bot(&fake, options()).await;
    fake.wait_until_ready(WAIT).await.expect("ready");
    let registration = fake
        .wait_for("PUT", "/applications/*/commands$", WAIT)
        .await
        .expect("registered");
    assert_eq!(
        registration.body.as_ref().expect("body")[0]["options"][0]["options"][0]["type"],
        11,
        "poise registers `file` as an ATTACHMENT option"
    );

    let list = "rain\nhealing\n";
    let sent = fake
        .send_command(
            CommandCall::new("prayer").subcommand(
                "import",
                vec![CommandOption::attachment(
                    "file",
                    "list.txt",
                    "text/plain; charset=utf-8",
                    list.as_bytes().to_vec(),
                )],
            ),
            Invoker::in_guild(user.clone(), guild, channel),
        )
        .expect("sent");
    let cb = fake.wait_for_callback(&sent, WAIT).await.expect("answered");
    assert_eq!(
        cb.body_str("/data/content"),
        Some("imported list.txt (13 bytes, text/plain; charset=utf-8): rain\nhealing\n")
    );

    // What the bot was sent: the id as the value, the object in data.resolved.attachments.
    let frame = fake
        .gateway_frames()
        .into_iter()
        .rfind(|f| f.event.as_deref() == Some("INTERACTION_CREATE"))
        .expect("sent");
    let data = &frame.payload["d"]["data"];
    let id = data["options"][0]["options"][0]["value"]
        .as_str()
        .expect("id");
    let resolved = &data["resolved"]["attachments"][id];
    assert_eq!(resolved["filename"], "list.txt");
    assert_eq!(resolved["size"], 13);
    let url = resolved["url"].as_str().expect("url");
    assert!(
        url.starts_with(&format!(
            "{}/attachments/{channel}/{id}/list.txt?ex=",
            fake.base_url()
        )),
        "{url}"
    );

    // The download was recorded (outside /api/v10: no spec operation, no auth needed).
    let get = fake
        .wait_for(
            "GET",
            &format!("/attachments/{channel}/{id}/list.txt$"),
            WAIT,
        )
        .await
        .expect("downloaded");
    assert_eq!(get.status, 200);
    assert_eq!(get.authorization(), None);
    assert!(get.spec_operation.is_none());
    assert!(get.query_param("hm").is_some());

    assert_no_violations(&fake);
    bot.stop().await;
}

/// A bare HTTP/1.1 request over TCP, returning the raw response.
async fn raw(method: &str, url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!("{method} /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn served_files_unknown_ones_and_scripted_failures() {
    let fake = FakeDiscord::start().await;
    let channel = fake.next_id();
    let png = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255];
    let served = fake.serve_attachment(
        channel,
        FakeAttachment::new("my photo.png", "image/png", png.clone())
            .with_dimensions(2, 1)
            .with_description("a photo"),
    );
    let url = served.url.clone().expect("url set");
    assert!(url.contains(&format!(
        "/attachments/{channel}/{}/my%20photo.png?",
        served.id
    )));
    assert_eq!(served.proxy_url.as_deref(), Some(url.as_str()));

    // serenity's own download (a plain reqwest GET on `url`).
    let attachment: serenity::Attachment =
        serde_json::from_value(served.to_json()).expect("serenity's Attachment");
    assert_eq!(attachment.size, 8);
    assert_eq!(attachment.dimensions(), Some((2, 1)));
    assert_eq!(attachment.download().await.expect("downloads"), png);

    let ok = raw("GET", &url).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(
        ok.to_ascii_lowercase().contains("content-type: image/png"),
        "{ok}"
    );
    let head = raw("HEAD", &url).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    let base = fake.base_url();
    let unknown = raw("GET", &format!("{base}/attachments/{channel}/1/x.txt")).await;
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
    let wrong_name = raw(
        "GET",
        &format!("{base}/attachments/{channel}/{}/other.png", served.id),
    )
    .await;
    assert!(wrong_name.starts_with("HTTP/1.1 404"), "{wrong_name}");
    let ephemeral = raw(
        "GET",
        &format!(
            "{base}/ephemeral-attachments/0/{}/my%20photo.png",
            served.id
        ),
    )
    .await;
    assert!(ephemeral.starts_with("HTTP/1.1 200"), "{ephemeral}");

    fake.fail_next("GET", "/attachments/*", 500, json!({"message": "boom"}));
    let failed = raw("GET", &url).await;
    assert!(failed.starts_with("HTTP/1.1 500"), "{failed}");
    assert!(raw("GET", &url).await.starts_with("HTTP/1.1 200"));

    let gets = fake.requests_matching("GET", &format!("/attachments/{channel}/{}", served.id));
    assert_eq!(
        gets.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 200, 404, 500, 200]
    );
    assert!(gets.iter().all(|r| r.spec_operation.is_none()));
    fake.assert_no_spec_violations();
}
