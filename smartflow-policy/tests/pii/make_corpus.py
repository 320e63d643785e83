#!/usr/bin/env python3
"""Generates corpus.jsonl for tests/pii_corpus.rs. Deterministic: fixed seed, stdlib only.

    python3 smartflow-policy/tests/pii/make_corpus.py

Every labelled value is built by a generator below that enforces the validity rules (Luhn,
mod-97, SSN ranges, vendor key shapes, JWT structure...). Decoys are built to FAIL those rules
(or to be placeholders, loopback/documentation addresses, versions...), and are never labelled.
"""
import base64, json, os, random, string, uuid, hashlib, unicodedata

R = random.Random(20240611)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus.jsonl")
B62 = string.ascii_letters + string.digits
B64URL = B62 + "-_"

def rs(alpha, n): return "".join(R.choice(alpha) for _ in range(n))
def digits(n): return "".join(R.choice(string.digits) for _ in range(n))

# ---------------------------------------------------------------- validity helpers
def luhn_ok(num):
    s = 0
    for i, ch in enumerate(reversed(num)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9: d -= 9
        s += d
    return s % 10 == 0

def luhn_complete(prefix, length):
    body = prefix + digits(length - len(prefix) - 1)
    for c in string.digits:
        if luhn_ok(body + c): return body + c

BRANDS = [("4", 16, "visa"), ("51", 16, "mc"), ("53", 16, "mc"), ("55", 16, "mc"), ("2221", 16, "mc"),
          ("2720", 16, "mc"), ("34", 15, "amex"), ("37", 15, "amex"), ("6011", 16, "discover"),
          ("65", 16, "discover"), ("3530", 16, "jcb"), ("3589", 16, "jcb")]

def card():
    prefix, n, brand = R.choice(BRANDS)
    num = luhn_complete(prefix, n)
    style = R.choice(["space", "dash", "plain", "space"])
    if n == 15:
        parts = [num[:4], num[4:10], num[10:]]
    else:
        parts = [num[i:i + 4] for i in range(0, 16, 4)]
    return {"space": " ".join(parts), "dash": "-".join(parts), "plain": num}[style]

def not_luhn(n, prefix=""):
    while True:
        v = prefix + digits(n - len(prefix))
        if not luhn_ok(v) and v[0] != "0": return v

def iban_check(country, bban):
    conv = "".join(str(int(c, 36)) for c in bban + country + "00")
    return "%02d" % (98 - int(conv) % 97)

def es_dc(bank, branch, acct):
    w = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]
    def d(s):
        v = 11 - sum(int(c) * w[i] for i, c in enumerate(s)) % 11
        return {10: 1, 11: 0}.get(v, v)
    return f"{d('00' + bank + branch)}{d(acct)}"

def fr_key(bank, branch, acct):
    return "%02d" % (97 - (89 * int(bank) + 15 * int(branch) + 3 * int(acct)) % 97)

def nl_acct():
    while True:
        a = digits(10)
        if a[0] != "0" and sum(int(c) * (10 - i) for i, c in enumerate(a)) % 11 == 0: return a

def be_bban():
    first = digits(10)
    k = int(first) % 97 or 97
    return first + "%02d" % k

def iban(country=None):
    country = country or R.choice(["DE", "DE", "FR", "ES", "GB", "NL", "AT", "BE", "CH"])
    if country == "DE": bban = R.choice(["37040044", "10010010", "50010517", "20040000", "70150000", "60050101"]) + digits(10)
    elif country == "FR":
        bank, branch, acct = R.choice(["30004", "30003", "20041", "10278"]), digits(5), digits(11)
        bban = bank + branch + acct + fr_key(bank, branch, acct)
    elif country == "ES":
        bank, branch, acct = R.choice(["2100", "0049", "0182", "2038"]), digits(4), digits(10)
        bban = bank + branch + es_dc(bank, branch, acct) + acct
    elif country == "GB": bban = R.choice(["NWBK", "BARC", "LOYD", "HBUK"]) + digits(6) + digits(8)
    elif country == "NL": bban = R.choice(["ABNA", "INGB", "RABO"]) + nl_acct()
    elif country == "AT": bban = R.choice(["12000", "20111", "32000"]) + digits(11)
    elif country == "BE": bban = be_bban()
    else: bban = R.choice(["00762", "00230", "08390"]) + digits(12)
    v = country + iban_check(country, bban) + bban
    if R.random() < 0.55: v = " ".join(v[i:i + 4] for i in range(0, len(v), 4))
    return v

def bad_iban(country="DE"):
    v = iban(country).replace(" ", "")
    cd = int(v[2:4])
    v = v[:2] + "%02d" % ((cd + R.randint(1, 50)) % 97 + 2 if (cd + 7) % 97 != cd else cd) + v[4:]
    bban = v[4:]
    if iban_check(country, bban) == v[2:4]: v = v[:2] + "%02d" % ((int(v[2:4]) + 1) % 98 or 2) + v[4:]
    return v

def ssn():
    while True:
        a = R.randint(1, 899)
        if a in (0, 666): continue
        g, s = R.randint(1, 99), R.randint(1, 9999)
        v = f"{a:03d}-{g:02d}-{s:04d}"
        if v not in ("078-05-1120", "123-45-6789", "219-09-9999"): return v

def phone(region):
    if region == "US":
        area = R.choice([415, 212, 646, 312, 617, 206, 303, 512, 404, 713, 305, 718, 510, 773])
        ex = R.choice([x for x in range(201, 999) if x % 100 != 11 and x != 555 and x // 100 >= 2])
        line = "%04d" % R.randint(1000, 9999)
        f = R.choice(["+1 {a} {e} {l}", "({a}) {e}-{l}", "+1-{a}-{e}-{l}", "{a}-{e}-{l}", "+1 ({a}) {e}-{l}"])
        return f.format(a=area, e=ex, l=line)
    if region == "GB":
        k = R.choice(["lon", "mob", "man"])
        if k == "lon": return R.choice(["+44 20 7946 0%03d" % R.randint(0, 999), "+44 20 3%03d %04d" % (R.randint(100, 999), R.randint(0, 9999))])
        if k == "man": return "+44 20 8%03d %04d" % (R.randint(200, 999), R.randint(0, 9999))
        return "+44 74%02d %06d" % (R.choice([0, 1, 2, 3, 6, 7, 8, 9]) * 10 + R.randint(0, 9), R.randint(100000, 999999))
    if region == "DE":
        k = R.choice(["ber", "muc", "mob", "ber_nat", "ham"])
        if k == "ber": return "+49 30 %s" % (str(R.randint(2, 9)) + digits(7))
        if k == "ber_nat": return "030 %s" % (str(R.randint(2, 9)) + digits(7))
        if k == "muc": return "+49 89 %s" % (str(R.randint(2, 9)) + digits(7))
        if k == "ham": return "040 %s" % (str(R.randint(2, 9)) + digits(7))
        return "+49 %s %s" % (R.choice(["151", "152", "160", "170", "171", "176"]), str(R.randint(2, 9)) + digits(7))
    if region == "FR":
        first = R.choice(["1", "4", "6", "7", "6"])
        groups = [str(R.randint(10, 99)) for _ in range(4)]
        if R.random() < 0.5: return "+33 %s %s" % (first, " ".join(groups))
        return "0%s %s" % (first, " ".join(groups))
    if region == "ES":
        k = R.choice(["mad", "bcn", "mob"])
        if k == "mad": n = "91" + str(R.randint(2, 7)) + digits(6)
        elif k == "bcn": n = "93" + str(R.randint(2, 7)) + digits(6)
        else: n = R.choice(["6", "6", "7"]) + str(R.randint(0, 9) if True else 0) + digits(7)
        if n[0] == "7" and n[1] in "0": n = "71" + n[2:]
        s = f"{n[:3]} {n[3:6]} {n[6:]}"
        return ("+34 " + s) if R.random() < 0.6 else s
    raise ValueError(region)

FIRST = ["Laura", "James", "Priya", "Daniel", "Olivia", "Marcus", "Hannah", "Kenji", "Sofia", "Ethan", "Grace", "Omar"]
LAST = ["Chen", "Whitaker", "Raman", "Okafor", "Brennan", "Lindqvist", "Moreno", "Tanaka", "Kowalski", "Hughes", "Patel", "Sullivan"]
DE_N = [("Thomas", "Müller"), ("Anna", "Schmidt"), ("Jürgen", "Becker"), ("Katrin", "Hoffmann"), ("Lukas", "Wagner"), ("Sabine", "Krüger")]
FR_N = [("Claire", "Dubois"), ("Julien", "Moreau"), ("Élodie", "Lefèvre"), ("Mathieu", "Garnier"), ("Camille", "Rousseau")]
ES_N = [("Carlos", "García"), ("Lucía", "Fernández"), ("Javier", "Ortega"), ("Marta", "Navarro"), ("Pablo", "Jiménez")]
DOMAINS = {"en": ["brightlane.io", "northwindfreight.com", "kestrel-analytics.co.uk", "harborview-health.org", "gmail.com", "outlook.com"],
           "de": ["hafenkontor.de", "mueller-logistik.de", "web.de", "gmx.de", "stadtwerke-lindau.de"],
           "fr": ["lumiere-conseil.fr", "orange.fr", "atelier-verdier.fr", "free.fr"],
           "es": ["ferreteria-sol.es", "gmail.com", "clinica-alameda.es", "telefonica.net"]}

def strip_acc(s):
    s = s.replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))

def person(lang):
    if lang == "de": return R.choice(DE_N)
    if lang == "fr": return R.choice(FR_N)
    if lang == "es": return R.choice(ES_N)
    return R.choice(FIRST), R.choice(LAST)

def person_g(lang, female):
    if lang == "en": return R.choice(FIRST[0 if female else 1::2]), R.choice(LAST)
    pool = {"de": DE_N, "fr": FR_N, "es": ES_N}[lang]
    fem = {"Anna", "Katrin", "Sabine", "Claire", "Élodie", "Camille", "Lucía", "Marta"}
    return R.choice([p for p in pool if (p[0] in fem) == female])

def email(lang, name=None):
    f, l = name or person(lang)
    f, l = strip_acc(f.lower()), strip_acc(l.lower())
    local = R.choice([f"{f}.{l}", f"{f[0]}.{l}", f"{f}{l[0]}{R.randint(70, 99)}", f"{l}.{f}", f"{f}_{l}"])
    return f"{local}@{R.choice(DOMAINS[lang])}"

def role_email(lang):
    return R.choice(["billing", "accounts", "it-support", "hr", "facturation", "buchhaltung", "soporte"]) + "@" + R.choice([d for d in DOMAINS[lang] if "mail" not in d and "gmx" not in d and "web.de" not in d and "orange" not in d and "free" not in d and "outlook" not in d and "telefonica" not in d])

PUB_V4_FIRST = [23, 31, 37, 46, 52, 62, 77, 81, 85, 91, 104, 134, 141, 151, 176, 185, 212, 217, 88, 94]
def ipv4_pub():
    return f"{R.choice(PUB_V4_FIRST)}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"
def ipv4_priv():
    return R.choice([f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(2, 254)}", f"192.168.{R.randint(0, 255)}.{R.randint(2, 254)}", f"172.{R.randint(16, 31)}.{R.randint(0, 255)}.{R.randint(2, 254)}"])
def ipv6():
    p = R.choice(["2a01:4f8", "2600:1f18", "2a00:1450", "2001:41d0", "2a02:8108"])
    return p + ":" + ":".join("%x" % R.randint(1, 0xffff) for _ in range(2)) + "::" + "%x" % R.randint(1, 0xffff)
def ip(): return R.choice([ipv4_pub, ipv4_pub, ipv4_priv, ipv6])()

# ---------------------------------------------------------------- secrets
def api_key():
    k = R.choice(["openai", "openai_proj", "anthropic", "aws", "ghp", "github_pat", "slack", "stripe", "google", "gho"])
    if k == "openai": return "sk-" + rs(B62, 20) + "T3BlbkFJ" + rs(B62, 20)
    if k == "openai_proj": return "sk-proj-" + rs(B64URL, 74) + "T3BlbkFJ" + rs(B64URL, 74)
    if k == "anthropic": return "sk-ant-api03-" + rs(B64URL, 93) + "AA"
    if k == "aws": return "AKIA" + rs(string.ascii_uppercase + "234567", 16)
    if k == "ghp": return "ghp_" + rs(B62, 36)
    if k == "gho": return "gho_" + rs(B62, 36)
    if k == "github_pat": return "github_pat_11" + rs(string.ascii_uppercase + string.digits, 20) + "_" + rs(B62, 59)
    if k == "slack": return "xoxb-" + digits(12) + "-" + digits(13) + "-" + rs(B62, 24)
    if k == "stripe": return "sk_live_51" + rs(B62, 97)
    return "AIza" + rs(B64URL, 35)

def pem():
    kind = R.choice(["RSA", "PKCS8", "EC", "OPENSSH"])
    if kind == "RSA": head, pre, n = "RSA PRIVATE KEY", "MIIEowIBAAKCAQEA", 1588
    elif kind == "PKCS8": head, pre, n = "PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ", 1624
    elif kind == "EC": head, pre, n = "EC PRIVATE KEY", "MHcCAQEEI", 164
    else: head, pre, n = "OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW", 396
    body = pre + base64.b64encode(R.randbytes((n - len(pre)) * 3 // 4)).decode().rstrip("=")
    body = body[:n - 2] + "=="  if kind != "OPENSSH" else body[:n]
    width = 70 if kind == "OPENSSH" else 64
    lines = [body[i:i + width] for i in range(0, len(body), width)]
    return f"-----BEGIN {head}-----\n" + "\n".join(lines) + f"\n-----END {head}-----"

def b64u(b): return base64.urlsafe_b64encode(b).decode().rstrip("=")
def jwt():
    alg = R.choice(["HS256", "HS256", "RS256", "ES256"])
    head = b64u(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    iat = R.randint(1_715_000_000, 1_735_000_000)
    payload = {"sub": R.choice(["usr_", "acct_", ""]) + rs(string.ascii_lowercase + string.digits, 10), "iat": iat, "exp": iat + R.choice([900, 3600, 86400])}
    if R.random() < 0.5: payload["scope"] = R.choice(["read:orders", "admin", "chat:write"])
    sig = b64u(R.randbytes({"HS256": 32, "RS256": 256, "ES256": 64}[alg]))
    return f"{head}.{b64u(json.dumps(payload, separators=(',', ':')).encode())}.{sig}"

def pw(n=None):
    return rs(B62 + "!*~_-", n or R.randint(12, 24))

def url_cred():
    k = R.choice(["pg", "mysql", "mongo", "redis", "amqp", "https"])
    user = R.choice(["svc_billing", "app_rw", "etl_loader", "orders", "reporting", "deploy"])
    p = pw()
    if k == "pg": return f"postgres://{user}:{p}@db-prod-{R.randint(1, 4)}.eu-central-1.rds.amazonaws.com:5432/{R.choice(['billing', 'orders', 'crm'])}"
    if k == "mysql": return f"mysql://{user}:{p}@mysql-{R.randint(1, 9)}.internal.brightlane.io:3306/shop"
    if k == "mongo": return f"mongodb+srv://{user}:{p}@cluster0.{rs(string.ascii_lowercase + string.digits, 5)}.mongodb.net/prod?retryWrites=true"
    if k == "redis": return f"redis://default:{p}@cache-{R.randint(1, 3)}.hafenkontor.de:6379/0"
    if k == "amqp": return f"amqps://{user}:{p}@rabbit.northwindfreight.com:5671/%2F"
    return f"https://{user}:{p}@artifacts.kestrel-analytics.co.uk/repository/maven-releases/"

MONTHS = {"en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
          "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
          "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
          "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"]}
def dob(lang):
    y, m, d = R.randint(1948, 2004), R.randint(1, 12), R.randint(1, 28)
    if lang == "de": return R.choice([f"{d:02d}.{m:02d}.{y}", f"{d}. {MONTHS['de'][m - 1]} {y}"])
    if lang == "fr": return R.choice([f"{d:02d}/{m:02d}/{y}", f"{d} {MONTHS['fr'][m - 1]} {y}"])
    if lang == "es": return R.choice([f"{d:02d}/{m:02d}/{y}", f"{d} de {MONTHS['es'][m - 1]} de {y}"])
    return R.choice([f"{m:02d}/{d:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d} {MONTHS['en'][m - 1]} {y}", f"{MONTHS['en'][m - 1]} {d}, {y}"])

def passport(lang):
    if lang == "de": return R.choice("CFGHJK") + rs("CFGHJKLMNPRTVWXYZ0123456789", 8)
    if lang == "fr": return digits(2) + rs("ABCDEFGHJKLMNPRSTUVWXYZ", 2) + digits(5)
    if lang == "es": return R.choice(["PA", "AA", "XD"]) + R.choice("ABCDEFGHJK") + digits(6)
    return R.choice(["5", "6", "A", "5"]) + digits(8) if R.random() < 0.8 else digits(9)

ADDR = {"en": ["221B Baker Street", "48 Kingsland Road", "1200 Market Street", "77 Water Street", "350 Fifth Avenue", "14 Harbour Lane"],
        "de": ["Hauptstraße 12", "Lindenallee 7", "Bahnhofstraße 45a", "Schillerstraße 3", "Am Sandtorkai 41"],
        "fr": ["12 rue de Rivoli", "8 avenue Foch", "27 boulevard Haussmann", "3 place Bellecour"],
        "es": ["Calle de Alcalá 48", "Avenida Diagonal 211", "Calle Mayor 9", "Paseo de Gracia 92"]}

# ---------------------------------------------------------------- decoys (never labelled)
def sha(): return hashlib.sha1(R.randbytes(16)).hexdigest()
def sha256(): return hashlib.sha256(R.randbytes(16)).hexdigest()
def uid(): return str(uuid.UUID(bytes=R.randbytes(16), version=4))
def ver4(): return f"{R.randint(1, 12)}.{R.randint(0, 20)}.{R.randint(0, 9)}.{R.randint(1, 250)}"
def ts(): return f"2024-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d}.{R.randint(0, 999):03d}Z"
def pdate(): return f"2024-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}"
def isbn13():
    b = "978" + str(R.randint(0, 3)) + digits(8)
    c = (10 - sum(int(x) * (1 if i % 2 == 0 else 3) for i, x in enumerate(b)) % 10) % 10
    s = b + str(c)
    return f"{s[:3]}-{s[3]}-{s[4:8]}-{s[8:12]}-{s[12]}"
def ups(): return "1Z" + rs(string.ascii_uppercase + string.digits, 6) + digits(10)
def order16(): return not_luhn(16, R.choice(["4", "5", "37", "6011"]))
DOC_IPS = ["127.0.0.1", "192.0.2.10", "198.51.100.7", "203.0.113.25", "2001:db8::1", "0.0.0.0", "::1", "192.0.2.44", "2001:db8:85a3::8a2e:370:7334"]
PH_EMAILS = ["user@example.com", "john.doe@example.com", "you@example.org", "noreply@example.net", "admin@example.com", "jane@example.org"]
PH_KEYS = ["sk-...", "sk-your-key-here", "AKIAIOSFODNN7EXAMPLE", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "${OPENAI_API_KEY}", "<YOUR_API_KEY>", "sk-ant-xxxxxxxx", "xoxb-your-bot-token"]
PH_URLS = ["postgres://user:password@localhost", "postgres://user:password@localhost:5432/mydb", "mysql://USER:PASSWORD@localhost/db", "postgresql://${DB_USER}:${DB_PASSWORD}@db:5432/app", "redis://:<password>@localhost:6379", "https://username:password@localhost:8080/"]
MASKED = ["**** **** **** 4242", "xxx-xx-xxxx", "***-**-6721", "XXXX-XXXX-XXXX-1881", "DE** **** **** **** **34 56", "j***@g****.com", "+49 *** ****567", "•••• 0042"]

# ---------------------------------------------------------------- records
RECS = []
def rec(cat, lang, *parts):
    text, ents = "", []
    for p in parts:
        if isinstance(p, tuple):
            ents.append({"kind": p[0], "value": p[1]})
            text += p[1]
        else:
            text += p
    RECS.append({"lang": lang, "category": cat, "text": text, "entities": ents})

def E(kind, value): return (kind, value)
def PER(name): return E("PERSON", f"{name[0]} {name[1]}")

# ---------------------------------------------------------------- English positives
def t_ticket_en():
    c = R.randint(0, 7)
    if c == 0: rec("support_ticket", "en", "Ticket #", str(R.randint(40000, 99999)), ": I was charged twice for order ", order16(), ". The card used was ", E("CREDIT_CARD", card()), ", please refund the duplicate.")
    elif c == 1: rec("support_ticket", "en", "Customer can't log in. Registered e-mail is ", E("EMAIL", email("en")), ", callback number ", E("PHONE", phone("US")), ". App version 4.12.0.", str(R.randint(100, 999)), " on iOS.")
    elif c == 2: rec("support_ticket", "en", "Payroll issue: employee SSN ", E("US_SSN", ssn()), " was entered with the wrong tax state. Please correct before the ", pdate(), " run.")
    elif c == 3: rec("support_ticket", "en", "Please update the payout account to IBAN ", E("IBAN", iban(R.choice(["GB", "NL", "DE"]))), ". Reference INV-", digits(8), ".")
    elif c == 4: rec("support_ticket", "en", "Requests from ", E("IP_ADDRESS", ip()), " are being rate limited since ", ts(), ". Request id ", uid(), ".")
    elif c == 5: rec("support_ticket", "en", "KYC failed for applicant: date of birth ", E("DATE_OF_BIRTH", dob("en")), ", passport number ", E("PASSPORT", passport("en")), ". Upload looked blurry.")
    elif c == 6: rec("support_ticket", "en", "Urgent: a developer pasted our key ", E("API_KEY", api_key()), " into the public wiki. Rotate it and tell ", E("EMAIL", email("en")), ".")
    else: rec("support_ticket", "en", "The shipment to ", E("ADDRESS", R.choice(ADDR["en"])), " bounced. Tracking ", ups(), ". Reach the customer at ", E("PHONE", phone(R.choice(["US", "GB"]))), ".")

def t_email_en():
    n = person("en")
    c = R.randint(0, 5)
    if c == 0: rec("email", "en", "Dear Ms ", PER(person_g("en", True)), ",\n\nthe invoice for March is attached. Please transfer the amount to ", E("IBAN", iban("GB")), ".\n\nKind regards,\nAccounts Receivable\n", E("EMAIL", role_email("en")), "\n", E("PHONE", phone("GB")))
    elif c == 1: rec("email", "en", "Hi team,\n\nour new staging DB is up: ", E("URL_CREDENTIALS", url_cred()), "\nDo not share outside the team.\n\nCheers,\n", PER(n), "\nPlatform Engineering | ", E("PHONE", phone("US")))
    elif c == 2: rec("email", "en", "Dear Mr ", PER(person_g("en", False)), ",\n\nthank you for your application. We could not verify the SSN ", E("US_SSN", ssn()), " you provided; please call us on ", E("PHONE", phone("US")), ".\n\nHR Operations")
    elif c == 3: rec("email", "en", "Hello,\n\nplease find my details for the insurance form: born on ", E("DATE_OF_BIRTH", dob("en")), ", reachable at ", E("EMAIL", email("en", n)), ".\n\nBest,\n", PER(n))
    elif c == 4: rec("email", "en", "Forwarded message\nFrom: ", E("EMAIL", email("en")), "\nTo: ", E("EMAIL", email("en")), "\nSubject: card on file\n\nPlease use ", E("CREDIT_CARD", card()), " for the renewal (exp 09/27).")
    else: rec("email", "en", "Hi,\n\nthe VPN gateway moved to ", E("IP_ADDRESS", ipv4_pub()), ". Old one (", R.choice(DOC_IPS), ") is gone after ", pdate(), ".\n\n-- Network Ops, ", E("EMAIL", role_email("en")))

def t_code():
    c = R.randint(0, 9)
    if c == 0: rec("code", "en", 'import openai\n\nclient = openai.OpenAI(api_key="', E("API_KEY", "sk-" + rs(B62, 20) + "T3BlbkFJ" + rs(B62, 20)), '")\nresp = client.chat.completions.create(model="gpt-4o", messages=msgs)\n')
    elif c == 1:
        ak = "AKIA" + rs(string.ascii_uppercase + "234567", 16)
        rec("code", "en", "# .env\nAWS_ACCESS_KEY_ID=", E("API_KEY", ak), "\nAWS_REGION=eu-central-1\nDATABASE_URL=", E("URL_CREDENTIALS", url_cred()), "\nLOG_LEVEL=info\n")
    elif c == 2: rec("code", "en", "const octokit = new Octokit({\n  auth: '", E("API_KEY", "ghp_" + rs(B62, 36)), "',\n  userAgent: 'release-bot v2.3.1',\n});\n")
    elif c == 3: rec("code", "en", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: slack-notifier\nstringData:\n  SLACK_BOT_TOKEN: ", E("API_KEY", "xoxb-" + digits(12) + "-" + digits(13) + "-" + rs(B62, 24)), "\n  CHANNEL: \"#deploys\"\n")
    elif c == 4: rec("code", "en", 'provider "aws" {\n  region = "eu-west-1"\n}\n\nresource "aws_db_instance" "main" {\n  engine   = "postgres"\n  username = "app"\n  password = var.db_password\n  tags     = { commit = "', sha()[:12], '" }\n}\n')
    elif c == 5: rec("code", "en", "$ cat ~/.ssh/id_deploy\n", E("PRIVATE_KEY", pem()), "\n")
    elif c == 6: rec("code", "en", "curl -H 'Authorization: Bearer ", E("JWT", jwt()), "' https://api.brightlane.io/v2/orders?limit=50")
    elif c == 7: rec("code", "en", 'ANTHROPIC_API_KEY="', E("API_KEY", "sk-ant-api03-" + rs(B64URL, 93) + "AA"), '"\nMODEL=claude-sonnet-4\nMAX_TOKENS=4096\n')
    elif c == 8: rec("code", "en", "import stripe\nstripe.api_key = \"", E("API_KEY", "sk_live_51" + rs(B62, 97)), "\"\n# commit ", sha(), "\n")
    else: rec("code", "en", "settings = {\n    'maps_key': '", E("API_KEY", "AIza" + rs(B64URL, 35)), "',\n    'sentry_release': '", ver4(), "',\n}\n")

def t_log():
    c = R.randint(0, 5)
    if c == 0: rec("log", "en", ts(), " INFO  auth.login user=", E("EMAIL", email("en")), " ip=", E("IP_ADDRESS", ip()), " result=success session=", uid())
    elif c == 1: rec("log", "en", ts(), " WARN  payments.capture declined pan=", E("CREDIT_CARD", card()), " merchant_ref=", order16(), " code=05")
    elif c == 2: rec("log", "en", ts(), " DEBUG http.request GET /v1/me authorization=\"Bearer ", E("JWT", jwt()), "\" trace_id=", sha256()[:32])
    elif c == 3: rec("log", "en", ts(), " ERROR db.pool connect failed url=", E("URL_CREDENTIALS", url_cred()), " retry_in=5s")
    elif c == 4: rec("log", "en", "[", ts(), "] nginx: ", E("IP_ADDRESS", ipv4_pub()), " - - \"POST /api/signup HTTP/1.1\" 201 512 \"-\" \"Mozilla/5.0 Chrome/", ver4(), "\"")
    else: rec("log", "en", ts(), " WARN  kyc.verify mismatch ssn=", E("US_SSN", ssn()), " applicant=", uid(), " phone=", E("PHONE", phone("US")))

def t_csv():
    c = R.randint(0, 2)
    if c == 0:
        rows = ["customer_id,email,phone,country,signup_date"]
        ents = []
        for _ in range(R.randint(2, 3)):
            e, ph = email("en"), phone(R.choice(["US", "GB"]))
            rows.append(None); ents.append((e, ph))
        parts = [rows[0] + "\n"]
        for e, ph in ents:
            parts += [f"C{digits(6)},", E("EMAIL", e), ",", E("PHONE", ph), f",{R.choice(['US', 'GB'])},{pdate()}\n"]
        rec("csv", "en", *parts)
    elif c == 1:
        parts = ["employee_id,ssn,iban,cost_center\n"]
        for _ in range(2):
            parts += [f"E{digits(5)},", E("US_SSN", ssn()), ",", E("IBAN", iban().replace(" ", "")), f",CC-{digits(4)}\n"]
        rec("csv", "en", *parts)
    else:
        parts = ["txn_id,card_number,amount,currency,created_at\n"]
        for _ in range(2):
            parts += [f"{uid()},", E("CREDIT_CARD", card().replace(" ", "").replace("-", "")), f",{R.randint(5, 900)}.{R.randint(0, 99):02d},EUR,{ts()}\n"]
        rec("csv", "en", *parts)


def t_json():
    c = R.randint(0, 3)
    if c == 0: rec("json", "en", '{"event":"user.updated","id":"', uid(), '","data":{"email":"', E("EMAIL", email("en")), '","phone":"', E("PHONE", phone("US")), '","plan":"pro"}}')
    elif c == 1: rec("json", "en", '{"payment_method":{"type":"card","number":"', E("CREDIT_CARD", card().replace(" ", "")), '","exp_month":', str(R.randint(1, 12)), ',"exp_year":20', str(R.randint(26, 31)), '},"order":"', order16(), '"}')
    elif c == 2: rec("json", "en", '{"client_ip":"', E("IP_ADDRESS", ip()), '","token":"', E("JWT", jwt()), '","ts":"', ts(), '"}')
    else: rec("json", "en", '{"beneficiary":{"iban":"', E("IBAN", iban().replace(" ", "")), '","bic":"', R.choice(["COBADEFFXXX", "BNPAFRPPXXX", "CAIXESBBXXX", "NWBKGB2L"]), '"},"amount":{"value":"', str(R.randint(10, 9999)), '.00","currency":"EUR"}}')

def t_chat():
    c = R.randint(0, 4)
    if c == 0: rec("chat", "en", "hey can you summarize this thread? also my number changed, it's ", E("PHONE", phone("US")), " now")
    elif c == 1: rec("chat", "en", "why does this fail?? `openai.AuthenticationError` with key ", E("API_KEY", api_key()), " — it worked yesterday")
    elif c == 2: rec("chat", "en", "pls book the flight, passport no. ", E("PASSPORT", passport("en")), ", DOB ", E("DATE_OF_BIRTH", dob("en")), ", seat by the window")
    elif c == 3: rec("chat", "en", "send the contract to ", E("EMAIL", email("en")), " and cc legal, thx")
    else: rec("chat", "en", "can you debug my connection string? ", E("URL_CREDENTIALS", url_cred()), " keeps timing out")

# ---------------------------------------------------------------- German / French / Spanish positives
def t_de():
    n = person("de")
    c = R.randint(0, 7)
    if c == 0: rec("email", "de", "Sehr geehrte Frau ", PER(person_g("de", True)), ",\n\nbitte überweisen Sie den Betrag auf folgendes Konto: IBAN ", E("IBAN", iban("DE")), ".\n\nMit freundlichen Grüßen\nBuchhaltung\nTel. ", E("PHONE", phone("DE")))
    elif c == 1: rec("support_ticket", "de", "Kunde meldet doppelte Abbuchung. Kartennummer ", E("CREDIT_CARD", card()), ", Bestellnummer ", order16(), ". Rückruf unter ", E("PHONE", phone("DE")), ".")
    elif c == 2: rec("support_ticket", "de", "Neuer Vertrag für Herrn ", PER(person_g("de", False)), ", geboren am ", E("DATE_OF_BIRTH", dob("de")), ", wohnhaft ", E("ADDRESS", R.choice(ADDR["de"])), ", 10115 Berlin.")
    elif c == 3: rec("chat", "de", "kannst du mir helfen? meine neue Mailadresse ist ", E("EMAIL", email("de")), ", die alte bitte löschen")
    elif c == 4: rec("log", "de", ts(), " FEHLER Anmeldung fehlgeschlagen benutzer=", E("EMAIL", email("de")), " ip=", E("IP_ADDRESS", ip()))
    elif c == 5: rec("support_ticket", "de", "Identitätsprüfung: Reisepassnummer ", E("PASSPORT", passport("de")), ", Geburtsdatum ", E("DATE_OF_BIRTH", dob("de")), ". Bitte bis ", pdate(), " abschließen.")
    elif c == 6: rec("code", "de", "# Konfiguration für den Export-Job\nGITHUB_TOKEN=", E("API_KEY", "ghp_" + rs(B62, 36)), "\nEXPORT_DIR=/var/lib/export\n")
    else: rec("email", "de", "Hallo zusammen,\n\ndie neue Durchwahl von ", PER(n), " ist ", E("PHONE", phone("DE")), ".\n\nViele Grüße\n", E("EMAIL", role_email("de")))

def t_fr():
    n = person("fr")
    c = R.randint(0, 6)
    if c == 0: rec("email", "fr", "Bonjour Mme ", PER(person_g("fr", True)), ",\n\nvoici nos coordonnées bancaires : IBAN ", E("IBAN", iban("FR")), ".\n\nCordialement,\nService facturation\n", E("PHONE", phone("FR")))
    elif c == 1: rec("support_ticket", "fr", "Le client ne reçoit pas les SMS. Numéro : ", E("PHONE", phone("FR")), ", courriel : ", E("EMAIL", email("fr")), ".")
    elif c == 2: rec("support_ticket", "fr", "Dossier d'ouverture de compte : M. ", PER(n), ", né le ", E("DATE_OF_BIRTH", dob("fr")), ", numéro de passeport ", E("PASSPORT", passport("fr")), ".")
    elif c == 3: rec("chat", "fr", "salut, le paiement avec la carte ", E("CREDIT_CARD", card()), " a été refusé, tu peux vérifier ?")
    elif c == 4: rec("log", "fr", ts(), " ERREUR connexion refusée depuis ", E("IP_ADDRESS", ip()), " pour ", E("EMAIL", email("fr")))
    elif c == 5: rec("email", "fr", "Bonjour,\n\nmerci d'envoyer le colis au ", E("ADDRESS", R.choice(ADDR["fr"])), ", 75001 Paris.\n\nBien à vous,\n", PER(n))
    else: rec("code", "fr", "# clé de production, ne pas committer !\nOPENAI_API_KEY=", E("API_KEY", "sk-proj-" + rs(B64URL, 74) + "T3BlbkFJ" + rs(B64URL, 74)), "\n")

def t_es():
    n = person("es")
    c = R.randint(0, 6)
    if c == 0: rec("email", "es", "Estimado Sr. ", PER(person_g("es", False)), ":\n\nle confirmamos la domiciliación en la cuenta ", E("IBAN", iban("ES")), ".\n\nAtentamente,\nAtención al cliente\n", E("PHONE", phone("ES")))
    elif c == 1: rec("support_ticket", "es", "El cliente no puede acceder. Correo: ", E("EMAIL", email("es")), ", teléfono de contacto ", E("PHONE", phone("ES")), ".")
    elif c == 2: rec("support_ticket", "es", "Alta de paciente: fecha de nacimiento ", E("DATE_OF_BIRTH", dob("es")), ", número de pasaporte ", E("PASSPORT", passport("es")), ".")
    elif c == 3: rec("chat", "es", "oye, me cobraron dos veces en la tarjeta ", E("CREDIT_CARD", card()), ", ¿lo puedes revisar?")
    elif c == 4: rec("log", "es", ts(), " ERROR acceso denegado ip=", E("IP_ADDRESS", ip()), " token=", E("JWT", jwt()))
    elif c == 5: rec("email", "es", "Hola,\n\nla nueva dirección de envío es ", E("ADDRESS", R.choice(ADDR["es"])), ", 28014 Madrid.\n\nUn saludo,\nSra. ", PER(n))
    else: rec("code", "es", "# variables de entorno del servidor\nSLACK_TOKEN=", E("API_KEY", "xoxb-" + digits(12) + "-" + digits(13) + "-" + rs(B62, 24)), "\nDB_URL=", E("URL_CREDENTIALS", url_cred()), "\n")

# ---------------------------------------------------------------- hard negatives (no entity at all)
def t_neg():
    c = R.randint(0, 29)
    N = lambda lang, *p: rec("negative", lang, *p)
    if c == 0: N("en", "Order number ", order16(), " has shipped. Tracking: ", ups(), ".")
    elif c == 1: N("en", "Deployed commit ", sha(), " to production at ", ts(), " (release v", ver4(), ").")
    elif c == 2: N("en", "Upgrade to version ", ver4(), " fixes the memory leak introduced in ", ver4(), ".")
    elif c == 3: N("en", "ISBN ", isbn13(), " is out of print; the 2nd edition is ISBN ", isbn13(), ".")
    elif c == 4: N("en", "Set your key: `export OPENAI_API_KEY=", R.choice(PH_KEYS), "` and never commit it.")
    elif c == 5: N("en", 'client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])  # e.g. ', R.choice(["sk-...", "sk-your-key-here"]))
    elif c == 6: N("en", "aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE  # from the AWS docs, not a real key")
    elif c == 7: N("en", "Contact ", R.choice(PH_EMAILS), " for a demo account. Replace it with your own address.")
    elif c == 8: N("en", "Card on file: ", R.choice(["**** **** **** 4242", "XXXX-XXXX-XXXX-1881", "•••• 0042"]), " (masked). SSN: xxx-xx-xxxx.")
    elif c == 9: N("en", "DATABASE_URL=", R.choice(PH_URLS), "\nREDIS_URL=redis://localhost:6379/0\n")
    elif c == 10: N("en", "Listening on 127.0.0.1:", str(R.randint(3000, 9000)), " and [::1]:", str(R.randint(3000, 9000)), "; health check at http://localhost/healthz")
    elif c == 11: N("en", "Example from RFC 5737: ping ", R.choice(["192.0.2.10", "198.51.100.7", "203.0.113.25"]), " and the IPv6 documentation prefix ", R.choice(["2001:db8::1", "2001:db8:85a3::8a2e:370:7334"]), ".")
    elif c == 12: N("en", "request_id=", uid(), " span=", sha256()[:16], " duration_ms=", str(R.randint(3, 900)), " status=200")
    elif c == 13: N("en", "sha256sum: ", sha256(), "  smartflow-", f"{R.randint(0, 3)}.{R.randint(0, 30)}.{R.randint(0, 9)}", "-x86_64.tar.gz")
    elif c == 14: N("en", "Invoice ", not_luhn(16, "4"), " dated ", pdate(), " is overdue by ", str(R.randint(3, 60)), " days.")
    elif c == 15: N("en", "The meeting moved to ", pdate(), " at 14:30; agenda: Q3 roadmap, hiring, budget.")
    elif c == 16: N("en", "PEM example:\n-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\nPaste your own key above.")
    elif c == 17: N("en", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE", base64.b64encode(R.randbytes(48)).decode()[:28], "\n", base64.b64encode(R.randbytes(48)).decode()[:64], "\n-----END PUBLIC KEY-----")
    elif c == 18: N("en", "password: ${DB_PASSWORD}\nuser: ${DB_USER}\nhost: ${DB_HOST:-localhost}\n")
    elif c == 19: N("en", "Batch ", digits(10), " processed ", str(R.randint(1000, 99999)), " rows in ", str(R.randint(1, 59)), "s; checksum ", sha()[:8], ".")
    elif c == 20: N("en", "MAC ", ":".join("%02X" % R.randint(0, 255) for _ in range(6)), " joined VLAN ", str(R.randint(10, 400)), " at 09:41:07.")
    elif c == 21: N("en", "Build ", str(R.randint(1000, 9999)), " used Node ", f"{R.randint(16, 22)}.{R.randint(0, 20)}.{R.randint(0, 9)}", ", npm package @scope/widgets@", f"{R.randint(1, 9)}.{R.randint(0, 9)}.{R.randint(0, 9)}", ".")
    elif c == 22: N("en", "Error: invalid IBAN ", bad_iban(R.choice(["DE", "FR", "NL"])), " (checksum mismatch) — ask the customer to re-enter it.")
    elif c == 23: N("en", "SSN field rejected value ", R.choice(["000-12-3456", "666-45-1234", "078-05-1120", f"9{R.randint(10, 99)}-{R.randint(70, 88)}-{R.randint(1000, 9999)}"]), ": not a valid social security number.")
    elif c == 24: N("en", "git clone git@github.com:smartflow/gateway.git && cd gateway && git checkout ", sha()[:7])
    elif c == 25: N("en", "Bearer <token>\nAuthorization: Bearer ${ACCESS_TOKEN}\nSee docs for how to obtain eyJ... tokens.")
    elif c == 26: N("en", "CPU 87% on node-", str(R.randint(1, 40)), ", p99 latency ", str(R.randint(100, 999)), "ms, ", str(R.randint(1, 9)), " pods restarted between ", ts(), " and ", ts(), ".")
    elif c == 27: N("en", "Ticket ", str(R.randint(100000, 999999)), " merged into ", str(R.randint(100000, 999999)), ". Priority P2, SLA 48h.")
    elif c == 28: N("en", "The event ID ", uid(), " and object key uploads/", pdate(), "/", sha256()[:20], ".png were retained.")
    else: N("en", "Use `ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx` as a placeholder in docs; real tokens go in the vault.")

def t_neg_intl():
    lang = R.choice(["de", "fr", "es"])
    c = R.randint(0, 5)
    N = lambda *p: rec("negative", lang, *p)
    if lang == "de":
        [lambda: N("Bestellnummer ", order16(), " wurde am ", pdate(), " versandt. Sendungsnummer ", ups(), "."),
         lambda: N("Version ", ver4(), " behebt den Fehler beim Export. Commit ", sha(), "."),
         lambda: N("Bitte tragen Sie Ihre E-Mail wie ", R.choice(PH_EMAILS), " ein und ersetzen Sie den Platzhalter."),
         lambda: N("Die Rechnung ", not_luhn(16, "5"), " vom ", f"{R.randint(1, 28):02d}.{R.randint(1, 12):02d}.2024", " ist noch offen."),
         lambda: N("Der Server lauscht auf 127.0.0.1:8080, Testnetz ", R.choice(["192.0.2.10", "203.0.113.25"]), "."),
         lambda: N("Termin am ", f"{R.randint(1, 28):02d}.{R.randint(1, 12):02d}.2025", " um 10 Uhr, Raum 4.12, Vorgang ", uid(), ".")][c]()
    elif lang == "fr":
        [lambda: N("Commande n° ", order16(), " expédiée le ", f"{R.randint(1, 28):02d}/{R.randint(1, 12):02d}/2024", ", suivi ", ups(), "."),
         lambda: N("Mise à jour vers la version ", ver4(), " terminée ; empreinte ", sha256(), "."),
         lambda: N("Remplacez sk-your-key-here par votre propre clé dans le fichier .env."),
         lambda: N("Facture ", not_luhn(16, "4"), " : échéance le ", f"{R.randint(1, 28):02d}/{R.randint(1, 12):02d}/2025", "."),
         lambda: N("Carte enregistrée : **** **** **** 4242 (masquée)."),
         lambda: N("Réunion le ", f"{R.randint(1, 28)} {MONTHS['fr'][R.randint(0, 11)]} 2025", " à 15h, identifiant ", uid(), ".")][c]()
    else:
        [lambda: N("Pedido ", order16(), " enviado el ", f"{R.randint(1, 28):02d}/{R.randint(1, 12):02d}/2024", ". Seguimiento ", ups(), "."),
         lambda: N("Actualizado a la versión ", ver4(), ", commit ", sha(), "."),
         lambda: N("Escribe tu correo, por ejemplo ", R.choice(PH_EMAILS), ", en el formulario."),
         lambda: N("La factura ", not_luhn(16, "4"), " vence el ", f"{R.randint(1, 28):02d}/{R.randint(1, 12):02d}/2025", "."),
         lambda: N("DATABASE_URL=postgres://user:password@localhost:5432/tienda (solo desarrollo)"),
         lambda: N("Reunión el ", f"{R.randint(1, 28)} de {MONTHS['es'][R.randint(0, 11)]} de 2025", ", sala 3, referencia ", uid(), ".")][c]()

# ---------------------------------------------------------------- positives with decoys next to them
def t_mixed():
    c = R.randint(0, 5)
    if c == 0: rec("support_ticket", "en", "Docs say use ", R.choice(PH_EMAILS), " but my real login is ", E("EMAIL", email("en")), ".")
    elif c == 1: rec("log", "en", ts(), " INFO proxy upstream=127.0.0.1:8080 client=", E("IP_ADDRESS", ipv4_pub()), " app_version=", ver4())
    elif c == 2: rec("code", "en", "# docs example: AKIAIOSFODNN7EXAMPLE\n# real one below (rotate!)\naws_access_key_id = ", E("API_KEY", "AKIA" + rs(string.ascii_uppercase + "234567", 16)), "\n")
    elif c == 3: rec("support_ticket", "en", "Order ", order16(), " was paid with ", E("CREDIT_CARD", card()), "; the masked receipt shows **** **** **** 4242 which is wrong.")
    elif c == 4: rec("code", "en", "# local: ", R.choice(PH_URLS), "\n# prod:  ", E("URL_CREDENTIALS", url_cred()), "\n")
    else: rec("support_ticket", "en", "SSN on the form was xxx-xx-xxxx (masked); the real one from the scan is ", E("US_SSN", ssn()), ". Case ", uid(), ".")

def t_secret():
    c = R.randint(0, 3)
    if c == 0: rec("code", "en", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls-backend\nstringData:\n  tls.key: |\n", E("PRIVATE_KEY", pem()), "\n")
    elif c == 1: rec("chat", "en", "is this the right format for the deploy key?\n", E("PRIVATE_KEY", pem()), "\nit says invalid format")
    elif c == 2: rec("log", "en", ts(), " DEBUG oauth.exchange issued access_token=", E("JWT", jwt()), " expires_in=3600 client_id=", uid())
    else: rec("email", "en", "Hi,\n\nhere is the service key for the SFTP job, please store it in the vault:\n\n", E("PRIVATE_KEY", pem()), "\n\nThanks")

def main():
    plan = [(t_ticket_en, 40), (t_email_en, 30), (t_code, 36), (t_log, 30), (t_csv, 12), (t_json, 16), (t_chat, 18),
            (t_de, 24), (t_fr, 20), (t_es, 20), (t_mixed, 20), (t_secret, 16), (t_neg, 130), (t_neg_intl, 30)]
    seen = set()
    for fn, n in plan:
        made = 0
        while made < n:
            fn()
            if RECS[-1]["text"] in seen: RECS.pop(); continue
            seen.add(RECS[-1]["text"]); made += 1
    seen = set()
    with open(OUT, "w", encoding="utf-8") as f:
        counters = {}
        for r in RECS:
            assert r["text"] not in seen, r["text"]
            seen.add(r["text"])
            key = (r["category"], r["lang"])
            counters[key] = counters.get(key, 0) + 1
            r = {"id": f"{r['category']}-{r['lang']}-{counters[key]:03d}", **r}
            for e in r["entities"]:
                assert e["value"] in r["text"]
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(len(RECS), "records ->", OUT)

if __name__ == "__main__":
    main()
