//! Scripted mining sessions of every dialect, and look-alikes that are not mining, each with
//! the truth a scan must find. Message shapes follow the protocol facts in
//! docs/FACTS.md §N1–§N5 (method names, parameter order, agents, spacing habits of each
//! miner); the values are made up but consistent (block heights fit the times, targets fit the
//! difficulties, wallets pass their checksums).

use super::tcp::{Conversation, Dir, Link, Segmenting, Shape};
use super::writer::{CaptureWriter, Format, Interface};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// 2024-03-01T00:00:00Z, when the scripted sessions start.
pub const T0: i64 = 1_709_251_200 * 1_000_000_000;
const SEC: i64 = 1_000_000_000;

/// A valid Bitcoin address (the genesis block's).
pub const BTC_WALLET: &str = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa";
/// A valid Monero address (the Monero project's general fund).
pub const XMR_WALLET: &str = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
/// A valid EIP-55 Ethereum address (EIP-55's first example).
pub const ETH_WALLET: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

/// What a scan must report for a scenario.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Truth {
    /// Scenario name.
    pub name: String,
    /// True for mining sessions, false for look-alikes.
    pub mining: bool,
    /// The miner (client) address.
    pub client_ip: IpAddr,
    /// The miner's port.
    pub client_port: u16,
    /// The pool's (server's) address.
    pub server_ip: IpAddr,
    /// The pool's port.
    pub server_port: u16,
    /// Expected `mining.dialect`.
    pub dialect: Option<String>,
    /// Expected `mining.coin`.
    pub coin: Option<String>,
}

/// One scripted conversation and its truth.
pub struct Scenario {
    /// What a scan must report.
    pub truth: Truth,
    /// Link type of the frames.
    pub linktype: u32,
    /// Frames with their times.
    pub frames: Vec<(i64, Vec<u8>)>,
}

/// Compact JSON (`"a":1,"b":2`) or the spaced form of cgminer and Python (`"a": 1, "b": 2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spacing {
    /// No spaces.
    Compact,
    /// A space after every `:` and `,` outside strings.
    Spaced,
}

/// Renders a compact JSON line in the given spacing, with the line ending.
pub fn line(compact: &str, spacing: Spacing, crlf: bool) -> Vec<u8> {
    let mut out = String::with_capacity(compact.len() + 16);
    let mut in_str = false;
    let mut escaped = false;
    for c in compact.chars() {
        out.push(c);
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if spacing == Spacing::Spaced && (c == ':' || c == ',') {
            out.push(' ');
        }
    }
    out.push_str(if crlf { "\r\n" } else { "\n" });
    out.into_bytes()
}

struct Script {
    steps: Vec<(i64, Dir, Vec<Vec<u8>>)>,
}

impl Script {
    fn new() -> Script {
        Script { steps: Vec::new() }
    }
    fn at(&mut self, t_ms: i64, dir: Dir, lines: Vec<Vec<u8>>) -> &mut Script {
        self.steps.push((t_ms, dir, lines));
        self
    }
}

fn play(
    name: &str,
    script: &Script,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    shape: Shape,
    truth: (bool, Option<&str>, Option<&str>),
) -> Scenario {
    play_at(T0, name, script, client, server, shape, truth)
}

fn play_at(
    start: i64,
    name: &str,
    script: &Script,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    shape: Shape,
    truth: (bool, Option<&str>, Option<&str>),
) -> Scenario {
    let linktype = shape.link.linktype();
    let mut c = Conversation::new(client, server, shape);
    c.open(start);
    let mut last = start;
    for (t_ms, dir, lines) in &script.steps {
        let t = start + SEC / 10 + t_ms * 1_000_000;
        c.send(t, *dir, lines);
        last = last.max(t);
    }
    c.close(last + SEC);
    let mut frames = c.frames;
    frames.sort_by_key(|f| f.0);
    Scenario {
        truth: Truth {
            name: name.to_string(),
            mining: truth.0,
            client_ip: client.0,
            client_port: client.1,
            server_ip: server.0,
            server_port: server.1,
            dialect: truth.1.map(str::to_string),
            coin: truth.2.map(str::to_string),
        },
        linktype,
        frames,
    }
}

/// A scenario preceded by the DNS lookup of its server, asked by its client of 192.168.10.1.
fn with_dns(mut sc: Scenario, host: &str, addrs: &[IpAddr]) -> Scenario {
    let mut f = dns_frames(
        sc.truth.client_ip,
        v4(192, 168, 10, 1),
        host,
        addrs,
        T0 - SEC,
    );
    sc.frames.append(&mut f);
    sc.frames.sort_by_key(|x| x.0);
    sc
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn hexs(s: &str) -> String {
    hex::encode(s.as_bytes())
}

/// A Bitcoin-family coinbase first half committing to `height` (BIP 34) with a pool tag.
fn coinb1(height: u32, tag: &str) -> String {
    let h = height.to_le_bytes();
    let script_tail = hexs(tag);
    let script_len = 4 + tag.len() + 8; // height push + tag + extranonces (8 bytes, not in coinb1)
    format!(
        "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff{:02x}03{:02x}{:02x}{:02x}{}",
        script_len, h[0], h[1], h[2], script_tail
    )
}

/// A coinbase second half paying one P2PKH output, with the segwit witness commitment.
const COINB2: &str = "ffffffff0200f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac0000000000000000266a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf900000000";

fn notify9(job: u32, height: u32, tag: &str, ntime: u32, sp: Spacing) -> Vec<u8> {
    line(
        &format!(
            r#"{{"params":["{job:x}","4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000","{}","{COINB2}",["57351e8569cb9d036187a79fd1844fd930c1309efcd16c46af9bb9713b6ee734"],"20000000","17034219","{ntime:08x}",true],"id":null,"method":"mining.notify"}}"#,
            coinb1(height, tag)
        ),
        sp,
        false,
    )
}

fn bitcoin_family(
    agent: &str,
    login: &str,
    diff: u32,
    height: u32,
    tag: &str,
    sp: Spacing,
    asic: bool,
) -> Script {
    let mut s = Script::new();
    let ntime = (T0 / SEC) as u32;
    if asic {
        s.at(0, Dir::Up, vec![line(r#"{"id":1,"method":"mining.configure","params":[["version-rolling"],{"version-rolling.mask":"1fffe000","version-rolling.min-bit-count":2}]}"#, sp, false)]);
        s.at(30, Dir::Down, vec![line(r#"{"id":1,"result":{"version-rolling":true,"version-rolling.mask":"1fffe000"},"error":null}"#, sp, false)]);
    }
    s.at(
        60,
        Dir::Up,
        vec![line(
            &format!(r#"{{"id":2,"method":"mining.subscribe","params":["{agent}"]}}"#),
            sp,
            false,
        )],
    );
    s.at(90, Dir::Down, vec![line(r#"{"id":2,"result":[[["mining.set_difficulty","b4b6693b72a50c7116db18d6497cac52"],["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"]],"08000002",4],"error":null}"#, sp, false)]);
    s.at(
        120,
        Dir::Up,
        vec![
            line(
                &format!(r#"{{"id":3,"method":"mining.authorize","params":["{login}","x"]}}"#),
                sp,
                false,
            ),
            line(
                r#"{"id":4,"method":"mining.extranonce.subscribe","params":[]}"#,
                sp,
                false,
            ),
        ],
    );
    s.at(
        150,
        Dir::Down,
        vec![
            line(r#"{"id":3,"result":true,"error":null}"#, sp, false),
            line(r#"{"id":4,"result":true,"error":null}"#, sp, false),
            line(
                &format!(r#"{{"id":null,"method":"mining.set_difficulty","params":[{diff}]}}"#),
                sp,
                false,
            ),
            notify9(1, height, tag, ntime, sp),
        ],
    );
    if asic {
        s.at(
            160,
            Dir::Up,
            vec![line(
                &format!(r#"{{"id":5,"method":"mining.suggest_difficulty","params":[{diff}]}}"#),
                sp,
                false,
            )],
        );
    }
    for k in 0..24 {
        let id = 10 + k;
        let t = 2_000 + k * 5_000;
        let params = if asic {
            format!(r#"["{login}","1","0000{k:04x}","{ntime:08x}","b2957c02","00a4e000"]"#)
        } else {
            format!(r#"["{login}","1","0000{k:04x}","{ntime:08x}","b2957c02"]"#)
        };
        s.at(
            t,
            Dir::Up,
            vec![line(
                &format!(r#"{{"params":{params},"id":{id},"method":"mining.submit"}}"#),
                sp,
                false,
            )],
        );
        let answer = if k == 7 {
            r#"{"id":ID,"result":null,"error":[23,"Low difficulty share",null]}"#
        } else {
            r#"{"id":ID,"result":true,"error":null}"#
        };
        s.at(
            t + 40,
            Dir::Down,
            vec![line(&answer.replace("ID", &id.to_string()), sp, false)],
        );
        if k % 6 == 5 {
            s.at(
                t + 1_000,
                Dir::Down,
                vec![notify9(
                    2 + k as u32,
                    height,
                    tag,
                    ntime + k as u32 * 30,
                    sp,
                )],
            );
        }
    }
    s.at(
        125_000,
        Dir::Up,
        vec![line(
            r#"{"id":90,"method":"mining.get_transactions","params":["1"]}"#,
            sp,
            false,
        )],
    );
    s.at(
        125_050,
        Dir::Down,
        vec![
            line(
                r#"{"id":90,"result":null,"error":[20,"Unknown method",null]}"#,
                sp,
                false,
            ),
            line(
                r#"{"id":91,"method":"client.get_version","params":[]}"#,
                sp,
                false,
            ),
            line(
                r#"{"id":null,"method":"client.show_message","params":["maintenance at 02:00"]}"#,
                sp,
                false,
            ),
        ],
    );
    s.at(
        125_090,
        Dir::Up,
        vec![line(
            &format!(r#"{{"id":91,"result":"{agent}","error":null}}"#),
            sp,
            false,
        )],
    );
    s.at(
        126_000,
        Dir::Down,
        vec![line(
            r#"{"id":null,"method":"client.reconnect","params":["backup.pool.example",3333,0]}"#,
            sp,
            false,
        )],
    );
    s
}

fn equihash() -> Script {
    let sp = Spacing::Compact;
    let mut s = Script::new();
    s.at(0, Dir::Up, vec![line(r#"{"id":1,"method":"mining.subscribe","params":["EWBF Miner 0.3.4b",null,"eu1-zcash.flypool.org","3333"]}"#, sp, false)]);
    s.at(
        40,
        Dir::Down,
        vec![line(
            r#"{"id":1,"result":[null,"7c4e0a"],"error":null}"#,
            sp,
            false,
        )],
    );
    s.at(60, Dir::Up, vec![line(r#"{"id":2,"method":"mining.authorize","params":["t1KstPVzcNEK4ZeauQ6cogoqxQBMDSiRnGr.rig1","x"]}"#, sp, false)]);
    s.at(100, Dir::Down, vec![
        line(r#"{"id":2,"result":true,"error":null}"#, sp, false),
        line(r#"{"id":null,"method":"mining.set_target","params":["0004189374bc6a7ef9db22d0e5604189374bc6a7ef9db22d0e5604189374bc6a"]}"#, sp, false),
        line(r#"{"id":null,"method":"mining.notify","params":["1b3c","04000000","a3f2ce4e9bda6cbb27f1fbcf1e0f55a64b96aa5f4b7fa5e87e5c5f7f3a000000","b0d7e12c57d0e8e3c24b0d7f1e1b4d2c3f6c5e4a3b2c1d0e9f8a7b6c5d4e3f20","0000000000000000000000000000000000000000000000000000000000000000","4e8a3f65","1d0a1f3e",true]}"#, sp, false),
    ]);
    let solution = format!("fd4005{}", "ab".repeat(1344));
    for k in 0..12 {
        let t = 3_000 + k * 8_000;
        s.at(t, Dir::Up, vec![line(&format!(r#"{{"id":{},"method":"mining.submit","params":["t1KstPVzcNEK4ZeauQ6cogoqxQBMDSiRnGr.rig1","1b3c","4e8a3f65","{:048x}","{solution}"]}}"#, 10 + k, k), sp, false)]);
        s.at(
            t + 60,
            Dir::Down,
            vec![line(
                &format!(r#"{{"id":{},"result":true,"error":null}}"#, 10 + k),
                sp,
                false,
            )],
        );
    }
    s
}

fn nicehash_ethstratum() -> Script {
    let sp = Spacing::Compact;
    let mut s = Script::new();
    s.at(0, Dir::Up, vec![line(r#"{"id":1,"method":"mining.subscribe","params":["ethminer/0.19.0","EthereumStratum/1.0.0"]}"#, sp, false)]);
    s.at(40, Dir::Down, vec![line(r#"{"id":1,"result":[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f","EthereumStratum/1.0.0"],"080c"],"error":null}"#, sp, false)]);
    s.at(
        60,
        Dir::Up,
        vec![
            line(
                &format!(
                    r#"{{"id":2,"method":"mining.authorize","params":["{ETH_WALLET}.gpu7","x"]}}"#
                ),
                sp,
                false,
            ),
            line(
                r#"{"id":3,"method":"mining.extranonce.subscribe","params":[]}"#,
                sp,
                false,
            ),
        ],
    );
    s.at(100, Dir::Down, vec![
        line(r#"{"id":2,"result":true,"error":null}"#, sp, false),
        line(r#"{"id":3,"result":true,"error":null}"#, sp, false),
        line(r#"{"id":null,"method":"mining.set_difficulty","params":[0.5]}"#, sp, false),
        line(r#"{"id":null,"method":"mining.notify","params":["bf0488aa","abad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c","645cf20198c2f3861e947d4f67e3ab63b7b2e24dcc9095bd9123e7b33371f6cc",true]}"#, sp, false),
    ]);
    for k in 0..20 {
        let t = 2_000 + k * 4_000;
        s.at(t, Dir::Up, vec![line(&format!(r#"{{"id":{},"method":"mining.submit","params":["{ETH_WALLET}.gpu7","bf0488aa","6a909d9bbc{k:04x}"]}}"#, 10 + k), sp, false)]);
        s.at(
            t + 30,
            Dir::Down,
            vec![line(
                &format!(r#"{{"id":{},"result":true,"error":null}}"#, 10 + k),
                sp,
                false,
            )],
        );
    }
    s.at(
        90_000,
        Dir::Down,
        vec![line(
            r#"{"id":null,"method":"mining.set_extranonce","params":["af4c"]}"#,
            sp,
            false,
        )],
    );
    s
}

fn eth_proxy() -> Script {
    // ethminer key order: worker first, method last; spaced like Python's json.dumps.
    let sp = Spacing::Spaced;
    let work = |b: &str| {
        format!(
            r#"["0x1111111111111111111111111111111111111111111111111111111111111111","0x2222222222222222222222222222222222222222222222222222222222222222","{b}"]"#
        )
    };
    let boundary = "0x00000000dbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422e";
    let mut s = Script::new();
    s.at(0, Dir::Up, vec![line(&format!(r#"{{"worker":"eth1.0","jsonrpc":"2.0","params":["{ETH_WALLET}/rig-03/ops@example.org","x"],"id":2,"method":"eth_submitLogin"}}"#), sp, false)]);
    s.at(
        40,
        Dir::Down,
        vec![line(r#"{"id":2,"jsonrpc":"2.0","result":true}"#, sp, false)],
    );
    s.at(
        60,
        Dir::Up,
        vec![line(
            r#"{"worker":"","jsonrpc":"2.0","params":[],"id":3,"method":"eth_getWork"}"#,
            sp,
            false,
        )],
    );
    s.at(
        100,
        Dir::Down,
        vec![line(
            &format!(r#"{{"id":3,"jsonrpc":"2.0","result":{}}}"#, work(boundary)),
            sp,
            false,
        )],
    );
    for k in 0..16 {
        let t = 3_000 + k * 6_000;
        s.at(t, Dir::Up, vec![line(&format!(r#"{{"id":{},"jsonrpc":"2.0","method":"eth_submitWork","params":["0x{:016x}","0x1111111111111111111111111111111111111111111111111111111111111111","0x3333333333333333333333333333333333333333333333333333333333333333"],"worker":"eth1.0"}}"#, 20 + k, 0xabc0 + k), sp, false)]);
        s.at(
            t + 40,
            Dir::Down,
            vec![line(
                &format!(r#"{{"id":{},"jsonrpc":"2.0","result":true}}"#, 20 + k),
                sp,
                false,
            )],
        );
        if k % 4 == 3 {
            s.at(
                t + 2_000,
                Dir::Down,
                vec![line(
                    &format!(r#"{{"id":0,"jsonrpc":"2.0","result":{}}}"#, work(boundary)),
                    sp,
                    false,
                )],
            );
        }
    }
    s.at(50_000, Dir::Up, vec![line(r#"{"id":6,"jsonrpc":"2.0","method":"eth_submitHashrate","params":["0x1d08a61","0x59daa26581d0acd1fce254fb7e85952f4c09d0915afd33d3886cd914bc7d283c"]}"#, sp, false)]);
    s
}

fn cryptonote(agent: Option<&str>, method_first: bool, crlf: bool) -> Script {
    let sp = Spacing::Compact;
    let mut s = Script::new();
    let agent_part = agent
        .map(|a| format!(r#","agent":"{a}""#))
        .unwrap_or_default();
    let algo = if agent.is_some_and(|a| a.starts_with("XMRig")) {
        r#","algo":["rx/0"]"#
    } else {
        ""
    };
    let login = if method_first {
        format!(
            r#"{{"method":"login","params":{{"login":"{XMR_WALLET}","pass":"x"{agent_part}}},"id":1}}"#
        )
    } else {
        format!(
            r#"{{"id":1,"jsonrpc":"2.0","method":"login","params":{{"login":"{XMR_WALLET}.rig9","pass":"x"{agent_part}{algo},"rigid":"rig9"}}}}"#
        )
    };
    s.at(0, Dir::Up, vec![line(&login, sp, crlf)]);
    let job_algo = if algo.is_empty() {
        ""
    } else {
        r#","algo":"rx/0","height":3105000,"seed_hash":"a6b8b5ac6a5e0a9eb0b0a2d8c43e3d1c31f3a1e5c3e6b3f4a1d2c3b4a5f60718""#
    };
    s.at(50, Dir::Down, vec![line(&format!(r#"{{"id":1,"jsonrpc":"2.0","error":null,"result":{{"id":"a1b2","job":{{"blob":"{}","job_id":"j1","target":"dc460300"{job_algo}}},"extensions":["algo","nicehash","keepalive"],"status":"OK"}}}}"#, "0e0e".repeat(38)), sp, crlf)]);
    let mut id = 2;
    for k in 0..30 {
        let t = 2_000 + k * 3_000;
        let nonce = format!("{:08x}", 0x1f00_0000u32 + k as u32);
        let submit = if method_first {
            format!(
                r#"{{"method":"submit","params":{{"id":"a1b2","job_id":"j1","nonce":"{nonce}","result":"{}"}},"id":{id}}}"#,
                "cd".repeat(32)
            )
        } else {
            format!(
                r#"{{"id":{id},"jsonrpc":"2.0","method":"submit","params":{{"id":"a1b2","job_id":"j1","nonce":"{nonce}","result":"{}","algo":"rx/0"}}}}"#,
                "cd".repeat(32)
            )
        };
        let mut up = vec![line(&submit, sp, crlf)];
        if method_first && k % 10 == 0 {
            // xmr-stak resends the same share.
            up.push(line(&submit, sp, crlf));
        }
        s.at(t, Dir::Up, up);
        s.at(
            t + 50,
            Dir::Down,
            vec![line(
                &format!(
                    r#"{{"id":{id},"jsonrpc":"2.0","error":null,"result":{{"status":"OK"}}}}"#
                ),
                sp,
                crlf,
            )],
        );
        id += 1;
        if k % 10 == 9 {
            s.at(t + 900, Dir::Down, vec![line(&format!(r#"{{"jsonrpc":"2.0","method":"job","params":{{"blob":"{}","job_id":"j{k}","target":"dc460300"{job_algo}}}}}"#, "0f0f".repeat(38)), sp, crlf)]);
            s.at(t + 1_200, Dir::Up, vec![line(&format!(r#"{{"id":{id},"jsonrpc":"2.0","method":"keepalived","params":{{"id":"a1b2"}}}}"#), sp, crlf)]);
            s.at(t + 1_250, Dir::Down, vec![line(&format!(r#"{{"id":{id},"jsonrpc":"2.0","error":null,"result":{{"status":"KEEPALIVED"}}}}"#), sp, crlf)]);
            id += 1;
        }
    }
    s
}

fn http_post(path: &str, host: &str, extra: &str, body: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

fn http_ok(extra: &str, body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

fn getwork() -> Script {
    let mut s = Script::new();
    let auth = "Authorization: Basic d29ya2VyMS5iZmc6eA==\r\nUser-Agent: bfgminer/5.2.0\r\nX-Mining-Extensions: longpoll midstate rollntime submitold\r\nX-Mining-Hashrate: 425000000\r\n";
    let data = "00000002".to_string() + &"ab".repeat(124);
    for k in 0..10 {
        let t = k * 10_000;
        s.at(
            t,
            Dir::Up,
            vec![http_post(
                "/",
                "pool.example.net:8332",
                auth,
                r#"{"method": "getwork", "params": [], "id": 0}"#,
            )],
        );
        s.at(t + 50, Dir::Down, vec![http_ok("X-Long-Polling: /LP\r\nX-Roll-NTime: Y\r\n", &format!(r#"{{"result":{{"data":"{data}","target":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000","midstate":"{}","hash1":"{}"}},"error":null,"id":0}}"#, "11".repeat(32), "00".repeat(64)))]);
        s.at(
            t + 5_000,
            Dir::Up,
            vec![http_post(
                "/",
                "pool.example.net:8332",
                auth,
                &format!(r#"{{"method": "getwork", "params": ["{data}"], "id": 1}}"#),
            )],
        );
        s.at(
            t + 5_050,
            Dir::Down,
            vec![http_ok("", r#"{"result":true,"error":null,"id":1}"#)],
        );
    }
    s
}

fn getblocktemplate() -> Script {
    let mut s = Script::new();
    let hdr = "Authorization: Basic c29sbzp4\r\nUser-Agent: cgminer/4.10.0\r\n";
    for k in 0..3 {
        let t = k * 30_000;
        s.at(t, Dir::Up, vec![http_post("/", "10.9.0.1:8332", hdr, r#"{"id":0,"method":"getblocktemplate","params":[{"capabilities":["coinbasetxn","workid","coinbase/append"],"rules":["segwit"]}]}"#)]);
        s.at(t + 80, Dir::Down, vec![http_ok("", r#"{"result":{"version":536870912,"previousblockhash":"00000000000000000001a3e5ab34d0d6b0b6b4e3c0c1c2c3c4c5c6c7c8c9cacb","transactions":[],"coinbaseaux":{"flags":""},"coinbasevalue":312500000,"target":"0000000000000000000342190000000000000000000000000000000000000000","mintime":1709251000,"mutable":["time","transactions","prevblock"],"noncerange":"00000000ffffffff","sigoplimit":80000,"sizelimit":4000000,"curtime":1709251200,"bits":"17034219","height":833000},"error":null,"id":0}"#)]);
    }
    s.at(
        95_000,
        Dir::Up,
        vec![http_post(
            "/",
            "10.9.0.1:8332",
            hdr,
            &format!(
                r#"{{"id":1,"method":"submitblock","params":["{}"]}}"#,
                "00".repeat(200)
            ),
        )],
    );
    s.at(
        95_100,
        Dir::Down,
        vec![http_ok("", r#"{"result":null,"error":null,"id":1}"#)],
    );
    s
}

fn eth_getwork_http() -> Script {
    let mut s = Script::new();
    for k in 0..8 {
        let t = k * 4_000;
        s.at(
            t,
            Dir::Up,
            vec![http_post(
                &format!("/?miner=30@{ETH_WALLET}@rig1"),
                "pool.eth.example:80",
                "",
                r#"{"jsonrpc":"2.0","method":"eth_getWork","params":[],"id":73}"#,
            )],
        );
        s.at(t + 40, Dir::Down, vec![http_ok("", r#"{"id":73,"jsonrpc":"2.0","result":["0x1111111111111111111111111111111111111111111111111111111111111111","0x2222222222222222222222222222222222222222222222222222222222222222","0x00000000dbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422e"]}"#)]);
        s.at(t + 2_000, Dir::Up, vec![http_post("/", "pool.eth.example:80", "", &format!(r#"{{"jsonrpc":"2.0","method":"eth_submitWork","params":["0x{:016x}","0x1111111111111111111111111111111111111111111111111111111111111111","0x3333333333333333333333333333333333333333333333333333333333333333"],"id":74}}"#, k))]);
        s.at(
            t + 2_040,
            Dir::Down,
            vec![http_ok("", r#"{"id":74,"jsonrpc":"2.0","result":true}"#)],
        );
    }
    s
}

fn bitcoin_pushes_only(height: u32) -> Script {
    let mut s = Script::new();
    let ntime = (T0 / SEC) as u32;
    for k in 0..6 {
        s.at(
            k * 30_000,
            Dir::Down,
            vec![
                line(
                    r#"{"id":null,"method":"mining.set_difficulty","params":[65536]}"#,
                    Spacing::Spaced,
                    false,
                ),
                notify9(
                    100 + k as u32,
                    height,
                    "/ViaBTC/",
                    ntime + k as u32 * 30,
                    Spacing::Spaced,
                ),
            ],
        );
    }
    s
}

fn cryptonote_jobs_only() -> Script {
    let mut s = Script::new();
    for k in 0..5 {
        s.at(k * 40_000, Dir::Down, vec![line(&format!(r#"{{"jsonrpc":"2.0","method":"job","params":{{"blob":"{}","job_id":"{k}","target":"69ba0000","id":"x1"}}}}"#, "0e0e".repeat(38)), Spacing::Compact, false)]);
    }
    s
}

fn stratum_v2_plaintext() -> Script {
    use super::sv2 as w;
    let mut s = Script::new();
    s.at(
        0,
        Dir::Up,
        vec![w::setup_connection(
            "stratum.pool.example",
            3336,
            "Bitmain",
            "S19j Pro",
            "braiins-os-2023-10-24",
            "",
        )],
    );
    s.at(30, Dir::Down, vec![w::setup_success()]);
    s.at(
        60,
        Dir::Up,
        vec![w::open_standard_channel(1, "acct9.s19j-17", 100e12)],
    );
    s.at(
        90,
        Dir::Down,
        vec![w::open_channel_success(1, 7, 0x40), w::new_mining_job(7, 1)],
    );
    for k in 0..30u32 {
        let t = 2_000 + i64::from(k) * 4_000;
        s.at(t, Dir::Up, vec![w::submit_standard(7, k, 1 + k / 10)]);
        s.at(t + 30, Dir::Down, vec![w::submit_success(7, k, 1)]);
        if k % 10 == 9 {
            s.at(
                t + 500,
                Dir::Down,
                vec![w::new_mining_job(7, 2 + k / 10), w::set_target(7, 0x40)],
            );
        }
    }
    s
}

fn tls_session(sni: &str, alpn: &[&str], records: usize) -> Script {
    let mut s = Script::new();
    s.at(0, Dir::Up, vec![super::tls::client_hello(sni, alpn)]);
    s.at(40, Dir::Down, vec![super::tls::server_reply(2400)]);
    for k in 0..records {
        // Encrypted shares up, encrypted jobs down: small records, regular.
        let t = 2_000 + k as i64 * 15_000;
        s.at(
            t,
            Dir::Up,
            vec![
                vec![0x17, 3, 3, 0, 0x90]
                    .into_iter()
                    .chain(std::iter::repeat_n(0x33, 0x90))
                    .collect(),
            ],
        );
        s.at(
            t + 60,
            Dir::Down,
            vec![
                vec![0x17, 3, 3, 0, 0x40]
                    .into_iter()
                    .chain(std::iter::repeat_n(0x44, 0x40))
                    .collect(),
            ],
        );
    }
    s
}

fn browser_websocket(host: &str) -> Script {
    let mut s = Script::new();
    let req = format!(
        "GET /proxy0 HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://news.example\r\n\r\n"
    );
    s.at(0, Dir::Up, vec![req.into_bytes()]);
    s.at(30, Dir::Down, vec![b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec()]);
    for k in 0..10 {
        s.at(
            1_000 + k * 5_000,
            Dir::Down,
            vec![
                vec![0x81, 0x20]
                    .into_iter()
                    .chain(std::iter::repeat_n(b'j', 0x20))
                    .collect(),
            ],
        );
        s.at(
            3_000 + k * 5_000,
            Dir::Up,
            vec![
                vec![0x81, 0xa0, 1, 2, 3, 4]
                    .into_iter()
                    .chain(std::iter::repeat_n(b's', 0x20))
                    .collect(),
            ],
        );
    }
    s
}

/// A DNS exchange (UDP) between `client` and `resolver` at `t`, as frames.
fn dns_frames(
    client: IpAddr,
    resolver: IpAddr,
    host: &str,
    answers: &[IpAddr],
    t: i64,
) -> Vec<(i64, Vec<u8>)> {
    let (IpAddr::V4(c), IpAddr::V4(r)) = (client, resolver) else {
        return Vec::new();
    };
    let q = super::dns::query(0x4d57, host);
    let a = super::dns::response(0x4d57, host, None, answers);
    vec![
        (
            t,
            super::frames::ethernet(&super::frames::ipv4_udp(
                c.octets(),
                r.octets(),
                53_001,
                53,
                &q,
            )),
        ),
        (
            t + 5_000_000,
            super::frames::ethernet(&super::frames::ipv4_udp(
                r.octets(),
                c.octets(),
                53,
                53_001,
                &a,
            )),
        ),
    ]
}

// ---- look-alikes: crypto and JSON-RPC traffic that is not mining ----

fn bitcoin_p2p() -> Script {
    // version message: magic f9beb4d9, command "version", length, checksum, payload.
    let mut msg =
        hex::decode("f9beb4d976657273696f6e0000000000640000003b648d5a").unwrap_or_default();
    msg.extend(std::iter::repeat_n(0x11u8, 100));
    let mut verack =
        hex::decode("f9beb4d976657261636b000000000000000000005df6e0e2").unwrap_or_default();
    let inv = {
        let mut m =
            hex::decode("f9beb4d9696e76000000000000000000250000000000000001").unwrap_or_default();
        m.extend(std::iter::repeat_n(0x22u8, 36));
        m
    };
    let mut s = Script::new();
    s.at(0, Dir::Up, vec![msg.clone()]);
    s.at(30, Dir::Down, vec![msg, verack.clone()]);
    verack.extend_from_slice(&inv);
    s.at(60, Dir::Up, vec![verack]);
    for k in 0..10 {
        s.at(1_000 + k * 2_000, Dir::Down, vec![inv.clone()]);
    }
    s
}

fn monero_levin() -> Script {
    let mut m = hex::decode("0121010101010101e20000000000000001e90300000000000001000000")
        .unwrap_or_default();
    m.extend(std::iter::repeat_n(0x33u8, 226));
    let mut s = Script::new();
    s.at(0, Dir::Up, vec![m.clone()]);
    s.at(50, Dir::Down, vec![m.clone()]);
    s.at(5_000, Dir::Up, vec![m]);
    s
}

fn eth_wallet_api() -> Script {
    let mut s = Script::new();
    let calls = [
        r#"{"jsonrpc":"2.0","method":"web3_clientVersion","params":[],"id":1}"#,
        r#"{"jsonrpc":"2.0","method":"eth_getBalance","params":["0x407d73d8a49eeb85d32cf465507dd71d507100c1","latest"],"id":2}"#,
        r#"{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":3}"#,
        r#"{"jsonrpc":"2.0","method":"eth_call","params":[{"to":"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed","data":"0x70a08231"},"latest"],"id":4}"#,
        r#"{"jsonrpc":"2.0","method":"eth_getWork_not","params":[],"id":5}"#,
    ];
    for (k, c) in calls.iter().enumerate() {
        let t = k as i64 * 1_000;
        s.at(
            t,
            Dir::Up,
            vec![http_post(
                "/",
                "localhost:8545",
                "User-Agent: curl/7.56.1\r\n",
                c,
            )],
        );
        s.at(
            t + 20,
            Dir::Down,
            vec![http_ok(
                "",
                &format!(r#"{{"jsonrpc":"2.0","id":{},"result":"0x1b4"}}"#, k + 1),
            )],
        );
    }
    s
}

fn bitcoind_wallet_rpc() -> Script {
    let mut s = Script::new();
    for (k, m) in [
        "getblockchaininfo",
        "getbalance",
        "listtransactions",
        "getmininginfo",
        "getnetworkhashps",
    ]
    .iter()
    .enumerate()
    {
        let t = k as i64 * 2_000;
        s.at(
            t,
            Dir::Up,
            vec![http_post(
                "/",
                "127.0.0.1:8332",
                "Authorization: Basic dXNlcjpwYXNz\r\n",
                &format!(r#"{{"jsonrpc":"1.0","id":"curltest","method":"{m}","params":[]}}"#),
            )],
        );
        s.at(
            t + 20,
            Dir::Down,
            vec![http_ok(
                "",
                r#"{"result":{"chain":"main","blocks":833000},"error":null,"id":"curltest"}"#,
            )],
        );
    }
    s
}

fn electrum_wallet() -> Script {
    // Electrum protocol: line-delimited JSON-RPC over TCP with Bitcoin vocabulary, not mining.
    let sp = Spacing::Compact;
    let mut s = Script::new();
    s.at(0, Dir::Up, vec![line(r#"{"jsonrpc":"2.0","method":"server.version","params":["electrum/4.5.5","1.4"],"id":0}"#, sp, false)]);
    s.at(
        20,
        Dir::Down,
        vec![line(
            r#"{"jsonrpc":"2.0","result":["ElectrumX 1.16.0","1.4"],"id":0}"#,
            sp,
            false,
        )],
    );
    s.at(40, Dir::Up, vec![
        line(r#"{"jsonrpc":"2.0","method":"blockchain.headers.subscribe","params":[],"id":1}"#, sp, false),
        line(r#"{"jsonrpc":"2.0","method":"blockchain.scripthash.subscribe","params":["8b01df4e368ea28f8dc0423bcf7a4923e3a12d307c875e47a0cfbf90b5c39161"],"id":2}"#, sp, false),
        line(r#"{"jsonrpc":"2.0","method":"blockchain.estimatefee","params":[2],"id":3}"#, sp, false),
    ]);
    s.at(
        60,
        Dir::Down,
        vec![
            line(
                r#"{"jsonrpc":"2.0","result":{"hex":"00e0ff3f","height":833000},"id":1}"#,
                sp,
                false,
            ),
            line(r#"{"jsonrpc":"2.0","result":"f3a8a1c1","id":2}"#, sp, false),
            line(r#"{"jsonrpc":"2.0","result":0.00012,"id":3}"#, sp, false),
        ],
    );
    for k in 0..6 {
        s.at(30_000 + k * 60_000, Dir::Down, vec![line(&format!(r#"{{"jsonrpc":"2.0","method":"blockchain.headers.subscribe","params":[{{"hex":"00e0ff3f{k:02x}","height":{}}}]}}"#, 833_001 + k), sp, false)]);
    }
    s.at(
        400_000,
        Dir::Up,
        vec![line(
            r#"{"jsonrpc":"2.0","method":"server.ping","params":[],"id":9}"#,
            sp,
            false,
        )],
    );
    s.at(
        400_020,
        Dir::Down,
        vec![line(r#"{"jsonrpc":"2.0","result":null,"id":9}"#, sp, false)],
    );
    s
}

fn language_server() -> Script {
    let mut s = Script::new();
    let msgs = [
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"processId":4242,"rootUri":"file:///src","capabilities":{}}}"#,
        r#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///src/main.rs","languageId":"rust","version":1,"text":"fn main() {}"}}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///src/main.rs"},"position":{"line":0,"character":3}}}"#,
    ];
    for (k, m) in msgs.iter().enumerate() {
        let framed = format!("Content-Length: {}\r\n\r\n{m}", m.len());
        s.at(k as i64 * 500, Dir::Up, vec![framed.into_bytes()]);
        let r = r#"{"jsonrpc":"2.0","id":0,"result":{"capabilities":{"hoverProvider":true}}}"#;
        s.at(
            k as i64 * 500 + 20,
            Dir::Down,
            vec![format!("Content-Length: {}\r\n\r\n{r}", r.len()).into_bytes()],
        );
    }
    s
}

fn line_json_rpc_on_a_pool_port() -> Script {
    let sp = Spacing::Spaced;
    let mut s = Script::new();
    for k in 0..12 {
        s.at(k * 1_000, Dir::Up, vec![line(&format!(r#"{{"jsonrpc":"2.0","method":"echo","params":["Testing!"],"id":"ca08159b-{k}"}}"#), sp, false)]);
        s.at(
            k * 1_000 + 10,
            Dir::Down,
            vec![line(
                &format!(r#"{{"jsonrpc":"2.0","result":"Testing!","id":"ca08159b-{k}"}}"#),
                sp,
                false,
            )],
        );
    }
    s.at(20_000, Dir::Up, vec![line(r#"{"jsonrpc":"2.0","method":"login","params":{"login":"alice","pass":"correct horse"},"id":99}"#, sp, false)]);
    s.at(
        20_010,
        Dir::Down,
        vec![line(
            r#"{"jsonrpc":"2.0","result":{"status":"OK","token":"f00d"},"id":99}"#,
            sp,
            false,
        )],
    );
    s.at(21_000, Dir::Up, vec![line(r#"{"jsonrpc":"2.0","method":"submit","params":{"form":"contact","text":"hello"},"id":100}"#, sp, false)]);
    s.at(
        21_010,
        Dir::Down,
        vec![line(
            r#"{"jsonrpc":"2.0","result":true,"id":100}"#,
            sp,
            false,
        )],
    );
    s
}

fn web_browsing() -> Script {
    let mut s = Script::new();
    s.at(0, Dir::Up, vec![b"GET /index.html HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html\r\n\r\n".to_vec()]);
    let body = "<html><body>".to_string()
        + &"<p>mining.subscribe is a Stratum method; {\"method\":\"login\"}</p>".repeat(40)
        + "</body></html>";
    s.at(
        40,
        Dir::Down,
        vec![
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        ],
    );
    s
}

fn tls_like() -> Script {
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    hello.extend(std::iter::repeat_n(0x5a, 500));
    let mut s = Script::new();
    s.at(0, Dir::Up, vec![hello.clone()]);
    s.at(30, Dir::Down, vec![hello]);
    for k in 0..20 {
        s.at(
            1_000 + k * 10_000,
            Dir::Up,
            vec![
                vec![0x17, 0x03, 0x03, 0x00, 0x40]
                    .into_iter()
                    .chain(std::iter::repeat_n(0x77, 64))
                    .collect(),
            ],
        );
    }
    s
}

/// Every scripted scenario: the mining dialects in their variants, and the look-alikes.
/// The pool's side of the corpus's scripted mining sessions, one per dialect (the scan's
/// dialect names): every line or message the pool sends, in order. `minewatch-probe`'s tests
/// play them back as pool simulators, so a probe is judged on the same conversations a scan is.
pub fn pool_sides() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let down = |s: Script| -> Vec<Vec<u8>> {
        s.steps
            .into_iter()
            .filter(|(_, d, _)| *d == Dir::Down)
            .flat_map(|(_, _, lines)| lines)
            .collect()
    };
    vec![
        (
            "bitcoin",
            down(bitcoin_family(
                "cgminer/4.10.0",
                &format!("{BTC_WALLET}.farm1"),
                8192,
                833_000,
                "/synthpool/",
                Spacing::Compact,
                false,
            )),
        ),
        ("equihash", down(equihash())),
        ("ethereumstratum", down(nicehash_ethstratum())),
        ("eth-proxy", down(eth_proxy())),
        (
            "cryptonote",
            down(cryptonote(
                Some("XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0"),
                false,
                false,
            )),
        ),
        ("getwork", down(getwork())),
        ("getblocktemplate", down(getblocktemplate())),
        ("stratum-v2", down(stratum_v2_plaintext())),
    ]
}

/// Every scripted scenario: each mining dialect and coin, and the look-alikes, with their truth
/// (what `minewatch synth` writes and the detection tests read).
pub fn corpus() -> Vec<Scenario> {
    let btc_height = 833_000; // Bitcoin's height around 2024-03-01
    let ltc_height = 2_640_000; // Litecoin's
    let d = Shape::default;
    let c = |a: u8, p: u16| (v4(192, 168, 10, a), p);
    let srv = |a: u8, p: u16| (v4(203, 0, 113, a), p);
    let m = |dialect: &'static str, coin: &'static str| (true, Some(dialect), Some(coin));
    let no = (false, None, None);
    let v6c = (
        IpAddr::V6(Ipv6Addr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10])),
        50_123,
    );
    let v6s = (
        IpAddr::V6(Ipv6Addr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x99])),
        3333,
    );
    vec![
        play(
            "btc-cgminer-spaced",
            &bitcoin_family(
                "cgminer/4.10.0",
                &format!("{BTC_WALLET}.farm1"),
                8192,
                btc_height,
                "/synthpool/",
                Spacing::Spaced,
                false,
            ),
            c(11, 40001),
            srv(1, 3333),
            d(),
            m("bitcoin", "BTC"),
        ),
        play(
            "btc-asic-version-rolling-port25",
            &bitcoin_family(
                "bmminer/2.0.0",
                "acct7.s19-0042",
                65536,
                btc_height,
                "/ViaBTC/Mined by acct7/",
                Spacing::Compact,
                true,
            ),
            c(12, 40002),
            srv(2, 25),
            Shape {
                segmenting: Segmenting::Split,
                link: Link::Vlan(vec![100]),
                ..d()
            },
            m("bitcoin", "BTC"),
        ),
        play(
            "ltc-scrypt-qinq-batched",
            &bitcoin_family(
                "cgminer/4.11.1",
                "ltcacct.l7",
                4096,
                ltc_height,
                "/litepool/",
                Spacing::Compact,
                false,
            ),
            c(13, 40003),
            srv(3, 443),
            Shape {
                segmenting: Segmenting::Batched,
                link: Link::Vlan(vec![200, 300]),
                ..d()
            },
            m("bitcoin", "LTC"),
        ),
        play(
            "zec-equihash-ewbf",
            &equihash(),
            c(14, 40004),
            srv(4, 3333),
            Shape {
                link: Link::Pppoe,
                retransmit_every: 5,
                ..d()
            },
            m("equihash", "ZEC"),
        ),
        play(
            "eth-nicehash-ethereumstratum",
            &nicehash_ethstratum(),
            c(15, 40005),
            srv(5, 3353),
            Shape {
                link: Link::Gre,
                reorder_every: 3,
                ..d()
            },
            m("ethereumstratum", "ETH"),
        ),
        play(
            "eth-proxy-ethminer",
            &eth_proxy(),
            c(16, 40006),
            srv(6, 9999),
            Shape {
                link: Link::IpInIp,
                ..d()
            },
            m("eth-proxy", "ETH"),
        ),
        play(
            "xmr-xmrig-rx0",
            &cryptonote(
                Some("XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0"),
                false,
                false,
            ),
            c(17, 40007),
            srv(7, 14444),
            Shape {
                link: Link::Sll,
                ..d()
            },
            m("cryptonote", "XMR"),
        ),
        play(
            "xmr-minergate-no-agent",
            &cryptonote(None, false, true),
            c(18, 40008),
            srv(8, 45560),
            Shape {
                link: Link::Sll2,
                ..d()
            },
            m("cryptonote", "XMR"),
        ),
        play(
            "xmr-stak-method-first",
            &cryptonote(Some("xmr-stak-cpu/1.3.0-1.5.0"), true, false),
            c(19, 40009),
            srv(9, 9050),
            Shape {
                link: Link::Null,
                segmenting: Segmenting::Split,
                ..d()
            },
            m("cryptonote", "XMR"),
        ),
        play(
            "btc-getwork-http",
            &getwork(),
            c(20, 40010),
            srv(10, 8332),
            Shape {
                link: Link::Raw,
                ..d()
            },
            m("getwork", "BTC"),
        ),
        play(
            "btc-getblocktemplate-http",
            &getblocktemplate(),
            c(21, 40011),
            srv(11, 8332),
            d(),
            m("getblocktemplate", "BTC"),
        ),
        play(
            "eth-getwork-http-port80",
            &eth_getwork_http(),
            c(22, 40012),
            srv(12, 80),
            d(),
            m("eth-proxy", "ETH"),
        ),
        play(
            "btc-mid-session-pushes-only",
            &bitcoin_pushes_only(btc_height),
            c(23, 40013),
            srv(13, 3333),
            Shape {
                handshake: false,
                only: Some(Dir::Down),
                ..d()
            },
            m("bitcoin", "BTC"),
        ),
        play(
            "xmr-mid-session-jobs-only",
            &cryptonote_jobs_only(),
            c(24, 40014),
            srv(14, 5555),
            Shape {
                handshake: false,
                close: false,
                ..d()
            },
            m("cryptonote", "XMR"),
        ),
        play(
            "xmr-client-side-only",
            &cryptonote(
                Some("XMRig/6.20.0 (Windows NT 10.0; Win64; x64) libuv/1.44.2 msvc/2019"),
                false,
                false,
            ),
            c(25, 40015),
            srv(15, 443),
            Shape {
                only: Some(Dir::Up),
                ..d()
            },
            m("cryptonote", "XMR"),
        ),
        play(
            "btc-ipv6-lossy",
            &bitcoin_family(
                "cgminer/4.10.0",
                "ipv6acct.w1",
                1024,
                btc_height,
                "/v6pool/",
                Spacing::Compact,
                false,
            ),
            v6c,
            v6s,
            Shape {
                drop_every: 9,
                segmenting: Segmenting::Split,
                ..d()
            },
            m("bitcoin", "BTC"),
        ),
        play(
            "btc-stratum-v2-plaintext",
            &stratum_v2_plaintext(),
            c(26, 40016),
            srv(16, 3336),
            d(),
            m("stratum-v2", "BTC"),
        ),
        play(
            "zec-equihash-ip-fragments",
            &equihash(),
            c(27, 40017),
            srv(17, 3357),
            Shape {
                fragment_over: Some(512),
                ..d()
            },
            m("equihash", "ZEC"),
        ),
        play(
            "xmr-xmrig-over-tls-sni",
            &tls_session("pool.supportxmr.com", &[], 12),
            c(28, 40018),
            srv(18, 443),
            d(),
            m("unknown", "XMR"),
        ),
        play(
            "browser-miner-websocket",
            &browser_websocket("ws005.coinhive.com"),
            c(29, 40019),
            srv(19, 443),
            d(),
            m("unknown", "XMR"),
        ),
        // A pool name resolved, then TLS without a server name to the address it resolved to.
        with_dns(
            play(
                "zec-tls-to-resolved-pool-address",
                &tls_session("", &[], 8),
                c(30, 40020),
                srv(20, 5555),
                d(),
                m("unknown", "ZEC"),
            ),
            "zec-eu1.nanopool.org",
            &[v4(203, 0, 113, 20)],
        ),
        play(
            "not-browser-on-pool-website",
            &tls_session("www.nanopool.org", &["h2", "http/1.1"], 3),
            c(49, 40049),
            srv(49, 443),
            d(),
            no,
        ),
        with_dns(
            play(
                "not-ordinary-tls-and-dns",
                &tls_session("www.example.org", &[], 6),
                c(50, 40050),
                srv(50, 443),
                d(),
                no,
            ),
            "www.example.org",
            &[v4(203, 0, 113, 50)],
        ),
        play(
            "not-bitcoin-p2p",
            &bitcoin_p2p(),
            c(40, 40040),
            srv(40, 8333),
            d(),
            no,
        ),
        play(
            "not-monero-levin",
            &monero_levin(),
            c(41, 40041),
            srv(41, 18080),
            d(),
            no,
        ),
        play(
            "not-eth-wallet-api",
            &eth_wallet_api(),
            c(42, 40042),
            srv(42, 8545),
            d(),
            no,
        ),
        play(
            "not-bitcoind-wallet-rpc",
            &bitcoind_wallet_rpc(),
            c(43, 40043),
            srv(43, 8332),
            d(),
            no,
        ),
        play(
            "not-electrum-wallet",
            &electrum_wallet(),
            c(48, 40048),
            srv(48, 50001),
            d(),
            no,
        ),
        play(
            "not-language-server",
            &language_server(),
            c(44, 40044),
            srv(44, 4389),
            d(),
            no,
        ),
        play(
            "not-json-rpc-on-pool-port",
            &line_json_rpc_on_a_pool_port(),
            c(45, 40045),
            srv(45, 4444),
            d(),
            no,
        ),
        play(
            "not-web-page-about-stratum",
            &web_browsing(),
            c(46, 40046),
            srv(46, 80),
            d(),
            no,
        ),
        play(
            "not-tls-on-3333",
            &tls_like(),
            c(47, 40047),
            srv(47, 3333),
            d(),
            no,
        ),
    ]
}

/// Writes scenarios into one capture: pcapng with one interface per link type in use.
pub fn write_pcapng(scenarios: &[&Scenario]) -> Vec<u8> {
    let mut links: Vec<u32> = scenarios.iter().map(|s| s.linktype).collect();
    links.sort_unstable();
    links.dedup();
    let ifaces: Vec<Interface> = links
        .iter()
        .map(|&l| Interface {
            linktype: l,
            tsresol: 9,
        })
        .collect();
    let mut all: Vec<(i64, usize, &[u8])> = Vec::new();
    for s in scenarios {
        let iface = links.iter().position(|&l| l == s.linktype).unwrap_or(0);
        all.extend(s.frames.iter().map(|(t, f)| (*t, iface, f.as_slice())));
    }
    all.sort_by_key(|x| x.0);
    let mut w = CaptureWriter::new(Format::PcapNg { big_endian: false }, &ifaces);
    for (t, i, f) in all {
        w.packet(t, i, f);
    }
    w.finish()
}

/// Writes one scenario as a classic pcap file.
pub fn write_pcap(s: &Scenario, big_endian: bool, nanos: bool) -> Vec<u8> {
    let mut w = CaptureWriter::new(
        Format::Pcap { big_endian, nanos },
        &[Interface {
            linktype: s.linktype,
            tsresol: 6,
        }],
    );
    for (t, f) in &s.frames {
        w.packet(*t, 0, f);
    }
    w.finish()
}

/// Sessions a region generator places at a site's address and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteSession {
    /// An ASIC on a Bitcoin pool (Stratum v1 with version rolling).
    BitcoinAsic,
    /// A Litecoin scrypt rig.
    LitecoinRig,
    /// XMRig on a CPU: the usual cryptojacking payload.
    Xmrig,
    /// Ordinary HTTPS to a web host: not mining.
    Browsing,
}

/// One session of the given kind from `client` to `server`, starting at `start_ns`; `worker`
/// names the rig in the login where the protocol carries one.
pub fn site_session(
    kind: SiteSession,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    start_ns: i64,
    worker: &str,
) -> Scenario {
    let height = 833_000;
    let (name, script, truth) = match kind {
        SiteSession::BitcoinAsic => (
            "site-btc-asic",
            bitcoin_family(
                "bmminer/2.0.0",
                &format!("{BTC_WALLET}.{worker}"),
                65536,
                height,
                "/synthpool/",
                Spacing::Compact,
                true,
            ),
            (true, Some("bitcoin"), Some("BTC")),
        ),
        SiteSession::LitecoinRig => (
            "site-ltc-rig",
            bitcoin_family(
                "cgminer/4.10.0",
                &format!("ltcacct.{worker}"),
                1024,
                2_640_000,
                "/litepool/",
                Spacing::Spaced,
                false,
            ),
            (true, Some("bitcoin"), Some("LTC")),
        ),
        SiteSession::Xmrig => (
            "site-xmrig",
            cryptonote(
                Some("XMRig/6.21.0 (Windows NT 10.0; Win64; x64) libuv/1.44.2 msvc/2019"),
                false,
                false,
            ),
            (true, Some("cryptonote"), Some("XMR")),
        ),
        SiteSession::Browsing => ("site-browsing", web_browsing(), (false, None, None)),
    };
    play_at(
        start_ns,
        name,
        &script,
        client,
        server,
        Shape::default(),
        truth,
    )
}
