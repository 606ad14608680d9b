//! One test per identity rule of `merge`, on plain facts.

use super::*;

const SINCE: &str = "2026-11-01T00:00:00Z";
const RECENT: &str = "2026-11-26T00:00:00Z";
const OLD: &str = "2026-08-01T00:00:00Z";

fn mac(text: &str) -> MacAddress {
    MacAddress::parse(text).unwrap()
}

fn machine(id: &str, name: &str, ip: &str, macs: &[&str]) -> MachineFacts {
    MachineFacts {
        machine_id: id.into(),
        dns_name: Some(name.into()),
        ips: if ip.is_empty() {
            vec![]
        } else {
            vec![ip.into()]
        },
        macs: macs.iter().map(|m| mac(m)).collect(),
        last_seen: Some(RECENT.into()),
        ..MachineFacts::default()
    }
}

fn discovered(id: i64, mac_text: Option<&str>, ip: &str, host: &str) -> KnownEndpoint {
    KnownEndpoint {
        endpoint_id: id,
        mac: mac_text.map(mac),
        ips: vec![ip.into()],
        hostnames: if host.is_empty() {
            vec![]
        } else {
            vec![host.into()]
        },
        source_network: true,
        last_seen: RECENT.into(),
        representative: None,
    }
}

fn run(machines: &[MachineFacts], endpoints: &[KnownEndpoint], splits: &[Split]) -> MergePlan {
    plan(&Inputs {
        machines,
        endpoints,
        splits,
        recent_since: SINCE,
    })
}

/// (target, rule of the representative) of each assignment, in machine order.
fn outcome(p: &MergePlan) -> Vec<(Target, Rule)> {
    p.assignments
        .iter()
        .map(|a| (a.target, a.evidence.joins[0].rule))
        .collect()
}

#[test]
fn devices_that_share_a_name_stay_apart() {
    let phones: Vec<MachineFacts> = (0..4)
        .map(|i| {
            machine(
                &format!("phone{i}"),
                "Cisco IP Phone 8845",
                &format!("10.0.0.{}", 10 + i),
                &[&format!("001BD40000{i:02}")],
            )
        })
        .collect();
    let p = run(&phones, &[], &[]);
    assert_eq!(p.assignments.len(), 4);
    assert_eq!(p.new_endpoints.len(), 4);
    for (n, e) in p.new_endpoints.iter().enumerate() {
        assert_eq!(e.mac, Some(mac(&format!("001BD40000{n:02}"))));
    }
}

#[test]
fn a_reimaged_duplicate_stays_with_its_live_record_which_is_the_target() {
    let live = machine("live", "ws-1.corp", "10.0.0.1", &["001122334455"]);
    let mut stale = machine("stale", "WS-1.corp", "10.0.0.1", &["0011223344AA"]);
    stale.potential_duplicate = true;
    stale.last_seen = Some(OLD.into());
    let p = run(&[stale, live], &[], &[]);
    assert_eq!(p.assignments.len(), 1);
    assert_eq!(p.assignments[0].machines, [1, 0], "the live record first");
    let rules: Vec<Rule> = p.assignments[0]
        .evidence
        .joins
        .iter()
        .map(|j| j.rule)
        .collect();
    assert_eq!(rules, [Rule::DefenderOnly, Rule::ReimageDuplicate]);
    // The stale record's own MAC keys nothing: only the live record speaks for the device.
    assert_eq!(p.new_endpoints[0].mac, Some(mac("001122334455")));
}

#[test]
fn a_physical_mac_joins_a_discovered_endpoint() {
    let p = run(
        &[machine("m1", "eng-ws-17", "10.9.9.9", &["00155DA1B2C3"])],
        &[discovered(
            7,
            Some("00:15:5D:A1:B2:C3"),
            "10.0.0.5",
            "printer",
        )],
        &[],
    );
    assert_eq!(outcome(&p), [(Target::Existing(7), Rule::Mac)]);
    assert!(p.new_endpoints.is_empty());
}

#[test]
fn a_mac_two_live_machines_report_joins_neither_and_both_show_the_conflict() {
    let clone_a = machine("vm-a", "tmpl-srv-clone", "10.0.1.10", &["005056A1B2C3"]);
    let clone_b = machine("vm-b", "tmpl-srv-clone", "10.0.1.11", &["005056A1B2C3"]);
    let scan = discovered(3, Some("00:50:56:A1:B2:C3"), "10.0.1.10", "other-name");
    let p = run(&[clone_a, clone_b], &[scan], &[]);
    assert_eq!(
        outcome(&p),
        [
            (Target::New(0), Rule::DefenderOnly),
            (Target::New(1), Rule::DefenderOnly)
        ]
    );
    assert_eq!(
        p.new_endpoints,
        [NewEndpoint { mac: None }, NewEndpoint { mac: None }]
    );
    let conflict = Conflict {
        mac: "00:50:56:A1:B2:C3".into(),
        machines: vec!["vm-a".into(), "vm-b".into()],
    };
    for a in &p.assignments {
        assert_eq!(a.evidence.conflicts, std::slice::from_ref(&conflict));
    }
    assert_eq!(p.unassigned[&3].conflicts, [conflict]);
}

#[test]
fn ip_and_host_name_join_only_within_the_window() {
    let m = machine("m1", "ENG-WS-17.corp.fabrikam.test", "10.0.0.5", &[]);
    let recent = discovered(1, None, "10.0.0.5", "eng-ws-17.lab.test");
    let p = run(std::slice::from_ref(&m), std::slice::from_ref(&recent), &[]);
    assert_eq!(outcome(&p), [(Target::Existing(1), Rule::IpHostname)]);

    let stale_scan = KnownEndpoint {
        last_seen: OLD.into(),
        ..recent.clone()
    };
    let p = run(std::slice::from_ref(&m), &[stale_scan], &[]);
    assert_eq!(outcome(&p), [(Target::New(0), Rule::DefenderOnly)]);

    let mut quiet = m.clone();
    quiet.last_seen = Some(OLD.into());
    let p = run(&[quiet], &[recent], &[]);
    assert_eq!(outcome(&p), [(Target::New(0), Rule::DefenderOnly)]);
}

#[test]
fn an_ip_alone_or_a_name_alone_or_localhost_joins_nothing() {
    let cases = [
        (machine("m", "printer-3", "10.0.0.5", &[]), "eng-ws-17"),
        (machine("m", "eng-ws-17", "10.0.0.6", &[]), "eng-ws-17"),
        (machine("m", "localhost", "10.0.0.5", &[]), "localhost"),
        (machine("m", "10.0.0.5", "10.0.0.5", &[]), "10.0.0.5"),
    ];
    for (m, host) in cases {
        let p = run(
            std::slice::from_ref(&m),
            &[discovered(1, None, "10.0.0.5", host)],
            &[],
        );
        assert_eq!(outcome(&p), [(Target::New(0), Rule::DefenderOnly)], "{m:?}");
    }
}

#[test]
fn one_endpoint_two_candidate_machines_is_ambiguous_and_joins_nothing() {
    // The scan merged both clones under their shared MAC: one endpoint, two addresses.
    let mut scan = discovered(5, Some("00:50:56:A1:B2:C3"), "10.0.1.10", "tmpl-srv-clone");
    scan.ips.push("10.0.1.11".into());
    let p = run(
        &[
            machine("vm-a", "tmpl-srv-clone", "10.0.1.10", &["005056A1B2C3"]),
            machine("vm-b", "tmpl-srv-clone", "10.0.1.11", &["005056A1B2C3"]),
        ],
        &[scan],
        &[],
    );
    assert_eq!(
        outcome(&p),
        [
            (Target::New(0), Rule::DefenderOnly),
            (Target::New(1), Rule::DefenderOnly)
        ]
    );
    let notes = &p.unassigned[&5].notes;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].kind, NoteKind::Ambiguous);
    assert_eq!(notes[0].machines, ["vm-a", "vm-b"]);
    assert!(p.assignments[0]
        .evidence
        .notes
        .iter()
        .any(|n| n.kind == NoteKind::Ambiguous));
}

#[test]
fn one_machine_two_candidate_endpoints_is_ambiguous_too() {
    let p = run(
        &[machine("m", "eng-ws-17", "10.0.0.5", &[])],
        &[
            discovered(1, None, "10.0.0.5", "eng-ws-17"),
            discovered(2, None, "10.0.0.5", "ENG-WS-17.other"),
        ],
        &[],
    );
    assert_eq!(outcome(&p), [(Target::New(0), Rule::DefenderOnly)]);
    assert!(p.assignments[0].evidence.notes[0]
        .detail
        .contains("2 network endpoints (1, 2)"));
}

#[test]
fn an_earlier_link_holds_until_something_contradicts_it() {
    let mut m = machine("m1", "eng-ws-17", "10.0.0.99", &["00155DA1B2C3"]);
    m.endpoint_id = Some(4);
    let mut joined = discovered(4, Some("00:15:5D:A1:B2:C3"), "10.0.0.5", "eng-ws-17");
    joined.representative = Some("m1".into());
    // The MAC still matches: re-derived as a MAC join.
    let p = run(std::slice::from_ref(&m), std::slice::from_ref(&joined), &[]);
    assert_eq!(outcome(&p), [(Target::Existing(4), Rule::Mac)]);

    // A scan endpoint keyed by another MAC, joined earlier by IP + host name, whose IP moved.
    let mut by_ip = discovered(4, Some("00:AA:BB:CC:DD:EE"), "10.0.0.5", "eng-ws-17");
    by_ip.representative = Some("m1".into());
    let p = run(std::slice::from_ref(&m), std::slice::from_ref(&by_ip), &[]);
    assert_eq!(outcome(&p), [(Target::Existing(4), Rule::EarlierLink)]);

    // The scan endpoint's MAC is now reported by two live machines: the join is contradicted.
    let mut a = machine("a", "x", "10.1.1.1", &["00AABBCCDDEE"]);
    a.endpoint_id = None;
    let b = machine("b", "y", "10.1.1.2", &["00AABBCCDDEE"]);
    let p = run(&[m, a, b], &[by_ip], &[]);
    assert_eq!(p.assignments[0].target, Target::New(0));
    assert_eq!(
        p.released,
        [Released {
            endpoint_id: 4,
            successor: Some(Target::New(0))
        }]
    );
    assert_eq!(p.unassigned[&4].conflicts[0].machines, ["a", "b"]);
}

#[test]
fn a_defender_only_endpoint_keeps_its_device_and_drops_a_mac_that_became_a_conflict() {
    let mut m = machine("m1", "srv", "10.0.0.1", &["005056A1B2C3"]);
    m.endpoint_id = Some(9);
    let clone = machine("m2", "srv", "10.0.0.2", &["005056A1B2C3"]);
    let own = KnownEndpoint {
        endpoint_id: 9,
        mac: Some(mac("005056A1B2C3")),
        ips: vec!["10.0.0.1".into()],
        hostnames: vec!["srv".into()],
        source_network: false,
        last_seen: RECENT.into(),
        representative: Some("m1".into()),
    };
    let p = run(&[m, clone], std::slice::from_ref(&own), &[]);
    assert_eq!(
        outcome(&p),
        [
            (Target::Existing(9), Rule::EarlierLink),
            (Target::New(0), Rule::DefenderOnly)
        ]
    );
    assert_eq!(p.rekeyed, [(9, None)]);
    assert_eq!(p.new_endpoints[0].mac, None);

    // Once the clone is gone the endpoint is keyed by the MAC again.
    let mut m = machine("m1", "srv", "10.0.0.1", &["005056A1B2C3"]);
    m.endpoint_id = Some(9);
    let unkeyed = KnownEndpoint { mac: None, ..own };
    let p = run(&[m], &[unkeyed], &[]);
    assert_eq!(p.rekeyed, [(9, Some(mac("005056A1B2C3")))]);
}

#[test]
fn a_split_is_honoured_by_every_rule() {
    let mut m = machine("m1", "eng-ws-17", "10.0.0.5", &["00155DA1B2C3"]);
    m.endpoint_id = Some(7);
    let mut scan = discovered(7, Some("00:15:5D:A1:B2:C3"), "10.0.0.5", "eng-ws-17");
    scan.representative = Some("m1".into());
    let split = Split {
        machine_id: "m1".into(),
        endpoint_id: 7,
    };
    let p = run(&[m], &[scan], &[split]);
    assert_eq!(outcome(&p), [(Target::New(0), Rule::DefenderOnly)]);
    // The MAC is the scan endpoint's key already, so the new endpoint has none.
    assert_eq!(p.new_endpoints[0].mac, None);
    assert_eq!(p.released[0].endpoint_id, 7);
}

#[test]
fn a_record_split_off_its_device_gets_an_endpoint_of_its_own() {
    let mut live = machine("live", "ws-1", "10.0.0.1", &["001122334455"]);
    live.endpoint_id = Some(2);
    let mut stale = machine("stale", "ws-1", "", &[]);
    stale.potential_duplicate = true;
    stale.last_seen = Some(OLD.into());
    stale.endpoint_id = Some(2);
    let own = KnownEndpoint {
        endpoint_id: 2,
        mac: Some(mac("001122334455")),
        source_network: false,
        last_seen: RECENT.into(),
        representative: Some("live".into()),
        ..KnownEndpoint::default()
    };
    let split = Split {
        machine_id: "stale".into(),
        endpoint_id: 2,
    };
    let p = run(&[live, stale], &[own], &[split]);
    assert_eq!(p.assignments.len(), 2);
    assert_eq!(p.assignments[0].target, Target::Existing(2));
    assert_eq!(p.assignments[0].machines, [0]);
    assert_eq!(p.assignments[1].target, Target::New(0));
    assert_eq!(p.assignments[1].machines, [1]);
    assert_eq!(
        p.assignments[1].evidence.notes[0].kind,
        NoteKind::NotGrouped
    );
}

#[test]
fn a_second_adapter_seen_separately_is_noted_on_its_endpoint() {
    let m = machine("m1", "lap-1", "10.0.0.5", &["00155DA1B2C3", "A0A8CD010203"]);
    let p = run(
        &[m],
        &[
            discovered(1, Some("00:15:5D:A1:B2:C3"), "10.0.0.5", ""),
            discovered(2, Some("A0:A8:CD:01:02:03"), "192.168.1.9", ""),
        ],
        &[],
    );
    assert_eq!(outcome(&p), [(Target::Existing(1), Rule::Mac)]);
    assert_eq!(p.unassigned[&2].notes[0].kind, NoteKind::AlsoSeen);
}

#[test]
fn a_network_endpoint_joined_earlier_is_not_taken_by_a_weaker_match() {
    let mut holder = machine("h", "eng-ws-17", "10.0.0.40", &[]);
    holder.endpoint_id = Some(1);
    let newcomer = machine("n", "eng-ws-17", "10.0.0.5", &[]);
    let mut scan = discovered(1, None, "10.0.0.5", "eng-ws-17");
    scan.representative = Some("h".into());
    let p = run(&[holder, newcomer], &[scan], &[]);
    assert_eq!(
        outcome(&p),
        [
            (Target::Existing(1), Rule::EarlierLink),
            (Target::New(0), Rule::DefenderOnly)
        ]
    );
    assert_eq!(p.assignments[1].evidence.notes[0].kind, NoteKind::NotJoined);
}

#[test]
fn two_devices_that_held_one_endpoint_under_the_old_name_rule_are_parted() {
    // Both were linked to endpoint 3 (grouped by name); "a" represented it.
    let mut a = machine("a", "Cisco IP Phone 8845", "10.0.0.10", &["001BD4000001"]);
    a.endpoint_id = Some(3);
    let mut b = machine("b", "Cisco IP Phone 8845", "10.0.0.11", &["001BD4000002"]);
    b.endpoint_id = Some(3);
    let own = KnownEndpoint {
        endpoint_id: 3,
        mac: Some(mac("001BD4000001")),
        source_network: false,
        last_seen: RECENT.into(),
        representative: Some("a".into()),
        ..KnownEndpoint::default()
    };
    let p = run(&[a, b], &[own], &[]);
    assert_eq!(
        outcome(&p),
        [
            (Target::Existing(3), Rule::EarlierLink),
            (Target::New(0), Rule::DefenderOnly)
        ]
    );
    assert_eq!(p.new_endpoints[0].mac, Some(mac("001BD4000002")));
}

#[test]
fn a_network_endpoint_matched_by_ip_and_name_takes_a_device_from_its_own_endpoint() {
    let mut m = machine("m1", "lap-7", "10.0.0.7", &["005056A1B2C3"]);
    m.endpoint_id = Some(9);
    let own = KnownEndpoint {
        endpoint_id: 9,
        mac: Some(mac("005056A1B2C3")),
        source_network: false,
        last_seen: RECENT.into(),
        representative: Some("m1".into()),
        ..KnownEndpoint::default()
    };
    // The laptop's Wi-Fi, seen by a scan under a randomised MAC.
    let scan = discovered(4, Some("DA:A1:19:00:00:01"), "10.0.0.7", "lap-7");
    let p = run(&[m], &[own, scan], &[]);
    assert_eq!(outcome(&p), [(Target::Existing(4), Rule::IpHostname)]);
    assert_eq!(
        p.released,
        [Released {
            endpoint_id: 9,
            successor: Some(Target::Existing(4))
        }]
    );
}

#[test]
fn a_defender_only_endpoint_keyed_by_its_device_mac_stays_an_earlier_link() {
    let mut m = machine("m1", "srv", "10.0.0.1", &["005056A1B2C3"]);
    m.endpoint_id = Some(9);
    let own = KnownEndpoint {
        endpoint_id: 9,
        mac: Some(mac("005056A1B2C3")),
        source_network: false,
        last_seen: RECENT.into(),
        representative: Some("m1".into()),
        ..KnownEndpoint::default()
    };
    let p = run(&[m], std::slice::from_ref(&own), &[]);
    assert_eq!(outcome(&p), [(Target::Existing(9), Rule::EarlierLink)]);
    // Another device's Defender-only endpoint keyed by a MAC this one now owns: a MAC join.
    let other = machine("m2", "srv2", "10.0.0.2", &["005056A1B2C3"]);
    let p = run(&[other], &[own], &[]);
    assert_eq!(outcome(&p), [(Target::Existing(9), Rule::Mac)]);
}
