//! The network assessment: risky services that local discovery found open on the endpoint.
//!
//! Each rule looks at the open ports and reports one finding or nothing; the assessment is the
//! highest finding. Discovery reports port numbers without the protocol, so each port stands
//! for its IANA well-known service.
//!
//! | rule | ports | level | why |
//! |---|---|---|---|
//! | Telnet | 23 | High | cleartext logins to a remote shell; the first thing IoT worms (Mirai) try |
//! | Unauthenticated data stores | 27017 MongoDB, 6379 Redis | High | no authentication by default; mass wipe-and-ransom campaigns target them |
//! | VNC | 5900 | High | password of at most 8 characters, often none; unencrypted by default |
//! | SMBv1 | 139/445 with SMBv1 confirmed | High | the EternalBlue / WannaCry class of wormable flaws |
//! | SMB | 445 or 139 | Medium | file sharing open to the network: lateral movement, relay attacks |
//! | RDP | 3389 | Medium | brute force and pre-auth flaws (BlueKeep class); NLA and TLS blunt it |
//! | FTP | 21 | Medium | cleartext credentials and data, anonymous logins |
//! | SNMP | 161 | Medium | v1/v2c community strings in cleartext, `public`/`private` defaults leak configuration |
//! | MQTT | 1883 | Medium | cleartext broker, often anonymous; lets anyone read or command IoT devices |
//! | Databases | 1433 SQL Server, 3306 MySQL, 5432 PostgreSQL | Medium | authenticated, but a brute-force and exploit target that should face app servers only |
//! | Cleartext web management | 80 without 443 | Low | a printer, camera or switch web UI that can only be reached without TLS |

use app::model::risk::{Assessment, AssessmentKind, RiskLevel};

use crate::risk::facts::NetworkFact;
use crate::risk::finding::{assessment_from, Finding};

/// A network rule: facts in, at most one finding out.
type Rule = fn(&NetworkFact) -> Option<Finding>;

/// Every rule, in the order of the module table.
const RULES: [Rule; 11] = [
    telnet,
    unauthenticated_data_store,
    vnc,
    smb_v1,
    smb,
    rdp,
    ftp,
    snmp,
    mqtt,
    database,
    cleartext_web_management,
];

fn is_open(facts: &NetworkFact, port: u16) -> bool {
    facts.open_ports.contains(&port)
}

/// The open ports among `ports`, as text (`"27017, 6379"`); `None` when none is open.
fn open_among(facts: &NetworkFact, ports: &[u16]) -> Option<String> {
    let open: Vec<String> = ports
        .iter()
        .filter(|&&port| is_open(facts, port))
        .map(u16::to_string)
        .collect();
    (!open.is_empty()).then(|| open.join(", "))
}

/// A rule about one port: the finding when it is open.
fn port_finding(facts: &NetworkFact, port: u16, level: RiskLevel, text: &str) -> Option<Finding> {
    is_open(facts, port).then(|| Finding::new(level, text))
}

/// Telnet (23): High.
pub fn telnet(facts: &NetworkFact) -> Option<Finding> {
    port_finding(
        facts,
        23,
        RiskLevel::High,
        "Telnet (port 23) is open: logins travel in cleartext",
    )
}

/// MongoDB (27017) or Redis (6379): High.
pub fn unauthenticated_data_store(facts: &NetworkFact) -> Option<Finding> {
    let ports = open_among(facts, &[27017, 6379])?;
    Some(Finding::new(
        RiskLevel::High,
        format!("MongoDB/Redis port {ports} is open: these often accept anyone without a password"),
    ))
}

/// VNC (5900): High.
pub fn vnc(facts: &NetworkFact) -> Option<Finding> {
    port_finding(
        facts,
        5900,
        RiskLevel::High,
        "VNC (port 5900) is open: weak or no password, unencrypted screen and keys",
    )
}

/// SMB with SMBv1 confirmed by discovery: High.
pub fn smb_v1(facts: &NetworkFact) -> Option<Finding> {
    if !facts.smb_v1 {
        return None;
    }
    let ports = open_among(facts, &[139, 445])?;
    Some(Finding::new(
        RiskLevel::High,
        format!("SMBv1 is accepted on port {ports}: the protocol behind WannaCry"),
    ))
}

/// SMB (445) or SMB over NetBIOS (139) without SMBv1: Medium (SMBv1 is the rule above).
pub fn smb(facts: &NetworkFact) -> Option<Finding> {
    if facts.smb_v1 {
        return None;
    }
    let ports = open_among(facts, &[139, 445])?;
    Some(Finding::new(
        RiskLevel::Medium,
        format!("File sharing (SMB, port {ports}) is open to the network"),
    ))
}

/// RDP (3389): Medium.
pub fn rdp(facts: &NetworkFact) -> Option<Finding> {
    port_finding(
        facts,
        3389,
        RiskLevel::Medium,
        "Remote Desktop (port 3389) is open: a brute-force target",
    )
}

/// FTP (21): Medium.
pub fn ftp(facts: &NetworkFact) -> Option<Finding> {
    port_finding(
        facts,
        21,
        RiskLevel::Medium,
        "FTP (port 21) is open: passwords and files travel in cleartext",
    )
}

/// SNMP (161): Medium.
pub fn snmp(facts: &NetworkFact) -> Option<Finding> {
    port_finding(
        facts,
        161,
        RiskLevel::Medium,
        "SNMP (port 161) is open: community strings travel in cleartext",
    )
}

/// MQTT without TLS (1883): Medium.
pub fn mqtt(facts: &NetworkFact) -> Option<Finding> {
    port_finding(
        facts,
        1883,
        RiskLevel::Medium,
        "MQTT without TLS (port 1883) is open: device messages can be read and sent",
    )
}

/// SQL Server (1433), MySQL (3306) or PostgreSQL (5432): Medium.
pub fn database(facts: &NetworkFact) -> Option<Finding> {
    let ports = open_among(facts, &[1433, 3306, 5432])?;
    Some(Finding::new(
        RiskLevel::Medium,
        format!("Database port {ports} is open to the network"),
    ))
}

/// HTTP (80) with no HTTPS (443) beside it: Low.
pub fn cleartext_web_management(facts: &NetworkFact) -> Option<Finding> {
    if is_open(facts, 443) {
        return None;
    }
    port_finding(
        facts,
        80,
        RiskLevel::Low,
        "Web interface only over HTTP (port 80, no 443): logins travel in cleartext",
    )
}

/// Every rule's finding, in rule order.
pub fn findings(facts: &NetworkFact) -> Vec<Finding> {
    RULES.iter().filter_map(|rule| rule(facts)).collect()
}

/// The network assessment: the highest finding, with every finding as a factor.
pub fn assess(facts: &NetworkFact) -> Assessment {
    let quiet = format!(
        "None of the {} open ports is a risky service.",
        facts.open_ports.len()
    );
    assessment_from(AssessmentKind::Network, findings(facts), quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(open_ports: &[u16]) -> NetworkFact {
        NetworkFact {
            open_ports: open_ports.to_vec(),
            smb_v1: false,
        }
    }

    #[test]
    fn port_rules_table() {
        use RiskLevel as R;
        // (open ports, expected level, a word the reason must contain)
        let cases: [(&[u16], R, &str); 24] = [
            (&[], R::None, "None of the 0"),
            (&[22, 443, 8883], R::None, "None of the 3"),
            (&[23], R::High, "Telnet"),
            (&[27017], R::High, "MongoDB/Redis port 27017"),
            (&[6379], R::High, "MongoDB/Redis port 6379"),
            (&[5900], R::High, "VNC"),
            (&[445], R::Medium, "SMB, port 445"),
            (&[139], R::Medium, "SMB, port 139"),
            (&[139, 445], R::Medium, "SMB, port 139, 445"),
            (&[3389], R::Medium, "Remote Desktop"),
            (&[21], R::Medium, "FTP"),
            (&[161], R::Medium, "SNMP"),
            (&[1883], R::Medium, "MQTT"),
            (&[1433], R::Medium, "Database port 1433"),
            (&[3306], R::Medium, "Database port 3306"),
            (&[5432], R::Medium, "Database port 5432"),
            (&[80], R::Low, "only over HTTP"),
            (&[80, 443], R::None, "None of the 2"),
            (&[443], R::None, "None of the 1"),
            // The highest finding wins and the reason counts the rest.
            (&[80, 3389], R::Medium, "Remote Desktop"),
            (&[80, 3389, 23], R::High, "2 more"),
            (&[21, 3389], R::Medium, "1 more"),
            (&[5432, 6379], R::High, "MongoDB/Redis"),
            (&[8080, 1883, 80], R::Medium, "MQTT"),
        ];
        for (open, level, words) in cases {
            let assessment = assess(&ports(open));
            assert_eq!(assessment.level, level, "{open:?}");
            assert_eq!(assessment.kind, AssessmentKind::Network);
            assert!(
                assessment.reason.contains(words),
                "{open:?}: {words:?} in {}",
                assessment.reason
            );
        }
    }

    #[test]
    fn confirmed_smb_v1_is_high_and_replaces_the_smb_finding() {
        let facts = NetworkFact {
            open_ports: vec![139, 445],
            smb_v1: true,
        };
        let assessment = assess(&facts);
        assert_eq!(assessment.level, RiskLevel::High);
        assert!(assessment.reason.contains("SMBv1"), "{}", assessment.reason);
        assert_eq!(assessment.factors.len(), 1, "{:?}", assessment.factors);
    }

    #[test]
    fn smb_v1_without_an_smb_port_is_not_a_finding() {
        let facts = NetworkFact {
            open_ports: vec![22],
            smb_v1: true,
        };
        assert_eq!(assess(&facts).level, RiskLevel::None);
    }

    #[test]
    fn factors_list_every_finding_most_severe_first() {
        let assessment = assess(&ports(&[80, 3389, 23]));
        assert_eq!(assessment.factors.len(), 3, "{:?}", assessment.factors);
        assert!(assessment.factors[0].contains("Telnet"));
        assert!(assessment.factors[1].contains("Remote Desktop"));
        assert!(assessment.factors[2].contains("HTTP"));
    }
}
