//! The broker's guarantees: order, coalescing, overflow, unsubscription, wake-ups.
use super::*;

fn json(s: &str) -> String {
    s.to_owned()
}

/// What was delivered, without the timestamps: `P`roperty or `E`vent, slot, JSON.
fn seen(deliveries: Vec<Delivery>) -> Vec<(char, u32, String)> {
    deliveries
        .into_iter()
        .map(|d| match d {
            Delivery::Property(slot, note) => ('P', slot, note.json.to_string()),
            Delivery::Event(slot, note) => ('E', slot, note.json.to_string()),
            Delivery::Message(text) => ('M', 0, text.to_string()),
            Delivery::Status(slot, _) => ('S', slot, String::new()),
        })
        .collect()
}

fn drain(m: &Mailbox) -> Vec<(char, u32, String)> {
    let mut out = Vec::new();
    m.drain_into(&mut out);
    seen(out)
}

#[test]
fn a_reader_that_keeps_up_gets_every_change_in_order() {
    let topic = Topic::new();
    let mailbox = Mailbox::new(MailboxLimits::default());
    topic.subscribe(&mailbox, 3);
    for i in 0..100 {
        topic.publish_value(json(&i.to_string()));
    }
    let got = drain(&mailbox);
    let expected: Vec<_> = (0..100).map(|i| ('P', 3, i.to_string())).collect();
    assert_eq!(got, expected);
}

#[test]
fn a_lagging_reader_is_coalesced_to_the_latest_value_per_slot() {
    let a = Topic::new();
    let b = Topic::new();
    let limits = MailboxLimits {
        queue: 4,
        max_events: 10,
    };
    let mailbox = Mailbox::new(limits);
    a.subscribe(&mailbox, 0);
    b.subscribe(&mailbox, 1);
    for i in 0..10_000 {
        a.publish_value(json(&format!("{i}")));
        b.publish_value(json(&format!("-{i}")));
    }
    assert!(mailbox.pending() <= 4 + 2, "memory stays bounded");
    let got = drain(&mailbox);
    let last_a = got
        .iter()
        .rev()
        .find_map(|(_, slot, v)| (*slot == 0).then(|| v.clone()))
        .unwrap();
    let last_b = got
        .iter()
        .rev()
        .find_map(|(_, slot, v)| (*slot == 1).then(|| v.clone()))
        .unwrap();
    assert_eq!(&*last_a, "9999");
    assert_eq!(&*last_b, "-9999");
    // After draining, the reader keeps up again and receives every change.
    a.publish_value(json("x"));
    a.publish_value(json("y"));
    assert_eq!(
        drain(&mailbox),
        vec![('P', 0, json("x")), ('P', 0, json("y"))]
    );
}

#[test]
fn events_are_never_coalesced_and_overflow_closes_the_mailbox() {
    let topic = Topic::new();
    let mailbox = Mailbox::new(MailboxLimits {
        queue: 2,
        max_events: 5,
    });
    topic.subscribe(&mailbox, 0);
    for i in 0..5 {
        topic.publish_event(json(&i.to_string()));
    }
    assert!(!mailbox.is_closed());
    assert_eq!(drain(&mailbox).len(), 5);
    for i in 0..6 {
        topic.publish_event(json(&i.to_string()));
    }
    assert!(mailbox.is_closed() && mailbox.overflowed());
    // The closed mailbox is dropped from the topic on the next publish.
    topic.publish_event(json("late"));
    assert_eq!(topic.subscriber_count(), 0);
}

#[test]
fn dropped_and_unsubscribed_mailboxes_receive_nothing() {
    let topic = Topic::new();
    let kept = Mailbox::new(MailboxLimits::default());
    let dropped = Mailbox::new(MailboxLimits::default());
    topic.subscribe(&kept, 0);
    topic.subscribe(&kept, 1); // re-subscribing replaces, no duplicates
    topic.subscribe(&dropped, 0);
    assert_eq!(topic.subscriber_count(), 2);
    drop(dropped);
    topic.publish_value(json("1"));
    assert_eq!(topic.subscriber_count(), 1);
    assert_eq!(drain(&kept), vec![('P', 1, json("1"))]);
    assert!(topic.unsubscribe(&kept));
    topic.publish_value(json("2"));
    assert!(drain(&kept).is_empty());
    assert!(!topic.has_subscribers());
}

#[tokio::test]
async fn recv_many_wakes_on_publish_and_ends_on_close() {
    let topic = Topic::new();
    let mailbox = Mailbox::new(MailboxLimits::default());
    topic.subscribe(&mailbox, 7);
    let reader = {
        let mailbox = mailbox.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut buf = Vec::new();
            while mailbox.recv_many(&mut buf).await {
                seen.append(&mut buf);
            }
            seen
        })
    };
    topic.publish_value(json("1"));
    topic.publish_event(json("{}"));
    tokio::task::yield_now().await;
    mailbox.close();
    let seen = reader.await.unwrap();
    assert_eq!(
        super::tests::seen(seen),
        vec![('P', 7, json("1")), ('E', 7, json("{}"))]
    );
}
