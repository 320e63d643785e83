//! Rule 5: closed word classes, and the language a request is written in.
//!
//! Each class is a fixed list of words and phrases, each mapped to a key (aliases of one thing
//! share a key: `js` = `javascript`, `kilometres` = `km`, `bulleted list` = `bullets`). If either
//! side uses a word of a class, the two sides' sets of keys for that class must be equal, so
//! `haiku` vs `limerick`, `today` vs `yesterday`, `ascending` vs `descending`, `formal` vs
//! `casual` are vetoed whatever else the prompts share. Classes: `programming_language`,
//! `language`, `format`, `time`, `unit` (units and currencies), `tone` (tone and audience),
//! `verbosity`, `order` (order, comparison, extremes, `<`/`>`), `question` (`why`, `when`,
//! `where`, `who` at the start of a sentence, and `what causes`, `what year`...).
//!
//! Ambiguous words only count in context: `Go`, `Swift`, `Rust`, `Julia`, `Dart`, `Polish`
//! capitalised or after `in/into/to/from/using/with/learn`; `C` and `R` only as capitals; `May`
//! and `March` capitalised mid-sentence or next to a number; `m`, `g`, `c`, `f`, `l`, `h`, `s`
//! after a number; `over`/`under`/`above`/`below` only before a number.
//!
//! The written language of the request is guessed from function words (`el`, `la`, `der`,
//! `und`, ...) and scripts (Cyrillic, CJK, ...) outside quotes; two confident guesses that differ
//! are vetoed as `language` (the answer would be in another language).
//!
//! Cannot catch: words outside the lists (a framework, a product tier, a niche unit), a class
//! word used in a sense the context rules do not see (`python` the snake), a change of tone or
//! audience expressed in free text ("like you would to my grandmother").

use std::collections::{BTreeSet, HashMap};

use super::words::{Kind, Token};

/// A closed word class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Class {
    ProgrammingLanguage,
    Language,
    Format,
    Time,
    Unit,
    Tone,
    Verbosity,
    Order,
    Question,
}

impl Class {
    pub(crate) const ALL: [Self; 9] = [
        Self::ProgrammingLanguage,
        Self::Language,
        Self::Format,
        Self::Time,
        Self::Unit,
        Self::Tone,
        Self::Verbosity,
        Self::Order,
        Self::Question,
    ];

    /// The label used in [`super::Veto::Class`].
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::ProgrammingLanguage => "programming_language",
            Self::Language => "language",
            Self::Format => "format",
            Self::Time => "time",
            Self::Unit => "unit",
            Self::Tone => "tone",
            Self::Verbosity => "verbosity",
            Self::Order => "order",
            Self::Question => "question",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::ProgrammingLanguage => 0,
            Self::Language => 1,
            Self::Format => 2,
            Self::Time => 3,
            Self::Unit => 4,
            Self::Tone => 5,
            Self::Verbosity => 6,
            Self::Order => 7,
            Self::Question => 8,
        }
    }
}

/// When an ambiguous lexicon entry counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cond {
    Always,
    /// Capitalised and not sentence-initial.
    Cap,
    /// Capitalised, or after a preposition such as `in`.
    CapOrPrep,
    /// Written in capitals (`C`, `R`).
    Upper,
    /// After a number (or `per`, `a`, `each`, `every`).
    AfterNumber,
    /// Before a number.
    BeforeNumber,
    /// At the start of a sentence.
    Initial,
    /// Capitalised mid-sentence, or next to a number (`May 5`).
    Month,
}

/// One lexicon entry: a class (or `None` for a neutral phrase that is only scaffolding) and key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) class: Option<Class>,
    pub(crate) key: &'static str,
    pub(crate) cond: Cond,
}

type Table = &'static [(&'static str, &'static [&'static str])];

// A surface may start with a condition marker: '^' Cap, '~' CapOrPrep, '!' Upper,
// '#' AfterNumber, '>' BeforeNumber, '?' Initial, '@' Month.

const PROGRAMMING: Table = &[
    ("python", &["python", "python3", "py", "python 3", "cpython"]),
    ("java", &["java"]),
    ("javascript", &["javascript", "js", "ecmascript", "vanilla js"]),
    ("typescript", &["typescript", "ts"]),
    ("nodejs", &["node.js", "nodejs", "node js", "^node"]),
    ("rust", &["~rust", "rustlang"]),
    ("go", &["^go", "golang"]),
    ("c", &["!c", "ansi c"]),
    ("c++", &["c++", "cpp", "cplusplus"]),
    ("c#", &["c#", "csharp", "c sharp"]),
    ("f#", &["f#"]),
    ("ruby", &["ruby"]),
    ("php", &["php"]),
    ("perl", &["perl"]),
    ("swift", &["~swift"]),
    ("kotlin", &["kotlin"]),
    ("scala", &["scala"]),
    ("haskell", &["haskell"]),
    ("elixir", &["elixir"]),
    ("erlang", &["erlang"]),
    ("clojure", &["clojure"]),
    ("lua", &["lua"]),
    ("r", &["!r"]),
    ("matlab", &["matlab"]),
    ("julia", &["~julia"]),
    ("dart", &["~dart"]),
    ("sql", &["sql"]),
    ("tsql", &["t-sql", "tsql"]),
    ("plsql", &["pl/sql", "plsql"]),
    ("mysql", &["mysql"]),
    ("postgresql", &["postgresql", "postgres"]),
    ("sqlite", &["sqlite"]),
    ("bash", &["bash", "shell", "shell script", "sh", "zsh"]),
    ("powershell", &["powershell"]),
    ("html", &["html", "html5"]),
    ("css", &["css", "scss", "sass"]),
    ("objective-c", &["objective-c", "objc"]),
    ("assembly", &["assembly", "asm"]),
    ("cobol", &["cobol"]),
    ("fortran", &["fortran"]),
    ("pascal", &["~pascal", "delphi"]),
    ("groovy", &["groovy"]),
    ("vba", &["vba", "vb.net", "visual basic"]),
    ("solidity", &["solidity"]),
    ("zig", &["~zig"]),
    ("ocaml", &["ocaml"]),
    ("lisp", &["lisp", "common lisp"]),
    ("prolog", &["prolog"]),
    ("verilog", &["verilog", "vhdl"]),
    ("excel_formula", &["excel formula", "google sheets formula"]),
];

const LANGUAGES: Table = &[
    ("english", &["english"]),
    ("spanish", &["spanish", "castilian", "español", "espanol"]),
    ("french", &["french", "français", "francais"]),
    ("german", &["german", "deutsch"]),
    ("italian", &["italian"]),
    ("portuguese", &["portuguese", "brazilian portuguese"]),
    ("dutch", &["dutch", "flemish"]),
    ("russian", &["russian"]),
    ("chinese", &["chinese", "mandarin", "simplified chinese", "traditional chinese"]),
    ("cantonese", &["cantonese"]),
    ("japanese", &["japanese"]),
    ("korean", &["korean"]),
    ("arabic", &["arabic"]),
    ("hindi", &["hindi"]),
    ("bengali", &["bengali", "bangla"]),
    ("urdu", &["urdu"]),
    ("punjabi", &["punjabi"]),
    ("turkish", &["turkish"]),
    ("polish", &["~polish"]),
    ("swedish", &["swedish"]),
    ("norwegian", &["norwegian"]),
    ("danish", &["danish"]),
    ("finnish", &["finnish"]),
    ("greek", &["greek"]),
    ("hebrew", &["hebrew"]),
    ("thai", &["thai"]),
    ("vietnamese", &["vietnamese"]),
    ("indonesian", &["indonesian", "bahasa"]),
    ("malay", &["malay"]),
    ("swahili", &["swahili"]),
    ("ukrainian", &["ukrainian"]),
    ("czech", &["czech"]),
    ("hungarian", &["hungarian"]),
    ("romanian", &["romanian"]),
    ("persian", &["persian", "farsi"]),
    ("tagalog", &["tagalog", "filipino"]),
    ("latin", &["latin"]),
    ("catalan", &["catalan"]),
    ("tamil", &["tamil"]),
    ("telugu", &["telugu"]),
    ("marathi", &["marathi"]),
    ("croatian", &["croatian"]),
    ("serbian", &["serbian"]),
    ("bulgarian", &["bulgarian"]),
    ("slovak", &["slovak"]),
    ("icelandic", &["icelandic"]),
    ("afrikaans", &["afrikaans"]),
    ("esperanto", &["esperanto"]),
];

const FORMATS: Table = &[
    ("json", &["json", "jsonl"]),
    ("yaml", &["yaml", "yml"]),
    ("xml", &["xml"]),
    ("csv", &["csv"]),
    ("tsv", &["tsv"]),
    ("toml", &["toml"]),
    ("markdown", &["markdown", "md"]),
    ("table", &["table", "tables", "tabular", "table format", "markdown table"]),
    (
        "bullets",
        &[
            "bullet",
            "bullets",
            "bullet points",
            "bullet point",
            "bulleted",
            "bulleted list",
            "bullet list",
            "bullet-point",
            "bullet-points",
            "bullet-point list",
            "bullet point list",
        ],
    ),
    ("numbered_list", &["numbered list", "numbered", "numbered steps", "ordered list"]),
    ("checklist", &["checklist", "check list", "to-do list", "todo list"]),
    ("paragraph", &["paragraph", "paragraphs", "prose"]),
    ("haiku", &["haiku", "haikus"]),
    ("limerick", &["limerick", "limericks"]),
    ("sonnet", &["sonnet", "sonnets"]),
    ("poem", &["poem", "poems", "poetry", "verse", "rhyme", "rhyming"]),
    ("essay", &["essay", "essays"]),
    ("email", &["email", "emails", "e-mail", "e-mails"]),
    ("letter", &["letter", "letters", "cover letter"]),
    ("memo", &["memo", "memorandum"]),
    ("tweet", &["tweet", "tweets", "twitter post", "x post"]),
    (
        "summary",
        &[
            "summary",
            "summaries",
            "summarize",
            "summarise",
            "summarized",
            "summarised",
            "summarizing",
            "summarising",
            "summarization",
            "tl;dr",
            "tldr",
            "recap",
            "synopsis",
            "gist",
        ],
    ),
    ("outline", &["outline"]),
    ("slides", &["slide", "slides", "slide deck", "presentation", "deck", "powerpoint"]),
    ("song", &["song", "songs", "lyrics", "jingle"]),
    ("rap", &["rap"]),
    ("joke", &["joke", "jokes", "pun", "puns"]),
    ("riddle", &["riddle", "riddles"]),
    ("blog", &["blog", "blog post", "blogpost", "blog article"]),
    ("article", &["article", "articles"]),
    ("press_release", &["press release"]),
    ("resume", &["resume", "résumé", "cv"]),
    ("pdf", &["pdf"]),
    ("docx", &["docx", "word document"]),
    ("spreadsheet", &["spreadsheet", "xlsx", "excel sheet"]),
    ("diagram", &["diagram", "flowchart", "flow chart", "mermaid"]),
    ("chart", &["chart", "graph", "bar chart", "pie chart"]),
    ("faq", &["faq", "faqs"]),
    ("quiz", &["quiz", "quizzes", "multiple choice", "multiple-choice"]),
    ("agenda", &["agenda"]),
    ("title", &["headline", "subject line"]),
    ("slogan", &["slogan", "tagline", "catchphrase"]),
    ("bio", &["bio", "biography"]),
    ("dialogue", &["dialogue", "dialog", "conversation script"]),
    ("speech", &["speech", "toast"]),
    ("cheatsheet", &["cheat sheet", "cheatsheet"]),
    ("newsletter", &["newsletter"]),
    ("message", &["text message", "sms", "dm", "slack message"]),
    ("one_liner", &["one-liner", "one liner", "oneliner"]),
    ("code_block", &["code block"]),
    ("regex", &["regex", "regular expression", "regexp"]),
];

const TIMES: Table = &[
    ("now", &["now", "currently", "current", "right now", "at the moment", "at present", "presently", "as of today"]),
    ("today", &["today", "this day"]),
    ("tonight", &["tonight"]),
    ("yesterday", &["yesterday"]),
    ("tomorrow", &["tomorrow"]),
    ("this_morning", &["this morning"]),
    ("this_week", &["this week"]),
    ("this_month", &["this month"]),
    ("this_year", &["this year"]),
    ("this_quarter", &["this quarter"]),
    ("last_week", &["last week", "past week", "previous week", "the week before"]),
    ("last_month", &["last month", "past month", "previous month"]),
    ("last_year", &["last year", "past year", "previous year"]),
    ("last_quarter", &["last quarter", "previous quarter", "past quarter"]),
    ("last_night", &["last night"]),
    ("last_weekend", &["last weekend"]),
    ("next_week", &["next week", "coming week", "upcoming week"]),
    ("next_month", &["next month", "coming month"]),
    ("next_year", &["next year", "coming year"]),
    ("next_quarter", &["next quarter"]),
    ("next_weekend", &["next weekend", "this weekend"]),
    ("monday", &["monday", "mondays"]),
    ("tuesday", &["tuesday", "tuesdays"]),
    ("wednesday", &["wednesday", "wednesdays"]),
    ("thursday", &["thursday", "thursdays"]),
    ("friday", &["friday", "fridays"]),
    ("saturday", &["saturday", "saturdays"]),
    ("sunday", &["sunday", "sundays"]),
    ("january", &["january", "jan"]),
    ("february", &["february", "feb"]),
    ("march", &["@march"]),
    ("april", &["april"]),
    ("may", &["@may"]),
    ("june", &["june"]),
    ("july", &["july"]),
    ("august", &["august"]),
    ("september", &["september", "sept"]),
    ("october", &["october"]),
    ("november", &["november"]),
    ("december", &["december"]),
    ("ago", &["ago"]),
    ("recent", &["recent", "recently", "lately", "these days", "nowadays"]),
    ("upcoming", &["upcoming", "soon", "future", "in the future"]),
    ("past", &["past", "in the past", "historically", "historical"]),
    ("daily", &["daily", "every day", "each day", "per day", "a day", "everyday"]),
    ("weekly", &["weekly", "every week", "each week", "per week", "a week"]),
    ("monthly", &["monthly", "every month", "each month", "per month", "a month"]),
    ("yearly", &["yearly", "annual", "annually", "every year", "each year", "per year", "a year", "per annum"]),
    ("quarterly", &["quarterly", "every quarter", "each quarter", "per quarter"]),
    ("hourly", &["hourly", "every hour", "each hour", "per hour", "an hour"]),
    ("morning", &["morning", "mornings"]),
    ("afternoon", &["afternoon"]),
    ("evening", &["evening", "evenings"]),
    ("night", &["night", "overnight", "nights"]),
    ("weekend", &["weekend", "weekends"]),
    ("am", &["#am", "a.m"]),
    ("pm", &["#pm", "p.m"]),
    ("q1", &["q1"]),
    ("q2", &["q2"]),
    ("q3", &["q3"]),
    ("q4", &["q4"]),
    ("eod", &["eod", "end of day", "end of the day"]),
    ("eow", &["end of the week", "end of week"]),
    ("eom", &["end of the month", "end of month", "month-end", "month end"]),
    ("eoy", &["end of the year", "end of year", "year-end", "year end"]),
];

const UNITS: Table = &[
    ("km", &["km", "kms", "kilometer", "kilometers", "kilometre", "kilometres", "kilo meter"]),
    ("m", &["#m", "meter", "meters", "metre", "metres"]),
    ("cm", &["cm", "centimeter", "centimeters", "centimetre", "centimetres"]),
    ("mm", &["mm", "millimeter", "millimeters", "millimetre", "millimetres"]),
    ("mile", &["mile", "miles", "#mi"]),
    ("ft", &["ft", "foot", "feet"]),
    ("inch", &["inch", "inches"]),
    ("yard", &["yard", "yards", "yd", "yds"]),
    ("kg", &["kg", "kgs", "kilogram", "kilograms", "kilo", "kilos"]),
    ("g", &["#g", "gram", "grams", "gramme", "grammes"]),
    ("mg", &["mg", "milligram", "milligrams"]),
    ("lb", &["lb", "lbs", "pound", "pounds"]),
    ("oz", &["oz", "ounce", "ounces", "fl oz", "fluid ounce", "fluid ounces"]),
    ("ton", &["ton", "tons", "tonne", "tonnes", "#t"]),
    ("l", &["#l", "liter", "liters", "litre", "litres"]),
    ("ml", &["#ml", "milliliter", "milliliters", "millilitre", "millilitres"]),
    ("gallon", &["gallon", "gallons", "gal"]),
    ("cup", &["cup", "cups"]),
    ("tbsp", &["tbsp", "tablespoon", "tablespoons"]),
    ("tsp", &["tsp", "teaspoon", "teaspoons"]),
    ("celsius", &["celsius", "centigrade", "°c", "#c", "degrees c", "degrees celsius"]),
    ("fahrenheit", &["fahrenheit", "°f", "#f", "degrees f", "degrees fahrenheit"]),
    ("kelvin", &["kelvin"]),
    ("degree", &["degree", "degrees", "°"]),
    ("mph", &["mph", "miles per hour", "miles an hour"]),
    ("kph", &["kph", "kmh", "km/h", "kilometers per hour", "kilometres per hour"]),
    ("mps", &["m/s", "meters per second", "metres per second"]),
    ("second", &["seconds", "secs", "#sec", "#s", "#second"]),
    ("ms", &["ms", "millisecond", "milliseconds"]),
    ("minute", &["minute", "minutes", "#min", "#mins"]),
    ("hour", &["hour", "hours", "hr", "hrs", "#h"]),
    ("day", &["day", "days", "#d"]),
    ("week", &["week", "weeks", "wk", "wks"]),
    ("month", &["month", "months"]),
    ("year", &["year", "years", "yr", "yrs"]),
    ("decade", &["decade", "decades"]),
    ("century", &["century", "centuries"]),
    ("byte", &["byte", "bytes"]),
    ("bit", &["#bit", "#bits"]),
    ("kb", &["kb", "kilobyte", "kilobytes", "kib"]),
    ("mb", &["mb", "megabyte", "megabytes", "mib"]),
    ("gb", &["gb", "gigabyte", "gigabytes", "gib"]),
    ("tb", &["tb", "terabyte", "terabytes", "tib"]),
    ("mbps", &["mbps", "megabits per second"]),
    ("gbps", &["gbps"]),
    ("hz", &["hz", "hertz"]),
    ("mhz", &["mhz", "megahertz"]),
    ("ghz", &["ghz", "gigahertz"]),
    ("watt", &["watt", "watts", "#w"]),
    ("kw", &["kw", "kilowatt", "kilowatts"]),
    ("kwh", &["kwh", "kilowatt-hour", "kilowatt-hours", "kilowatt hour", "kilowatt hours"]),
    ("volt", &["volt", "volts", "#v"]),
    ("mah", &["mah"]),
    ("calorie", &["calorie", "calories", "kcal"]),
    ("joule", &["joule", "joules"]),
    ("psi", &["psi"]),
    ("acre", &["acre", "acres"]),
    ("hectare", &["hectare", "hectares"]),
    ("sqft", &["square feet", "square foot", "sq ft", "sqft"]),
    ("sqm", &["square meters", "square metres", "square meter", "square metre", "sqm"]),
    ("usd", &["usd", "$", "dollar", "dollars", "us dollar", "us dollars", "bucks"]),
    ("eur", &["eur", "€", "euro", "euros"]),
    ("gbp", &["gbp", "£", "sterling", "pound sterling", "british pound", "british pounds"]),
    ("jpy", &["jpy", "¥", "yen"]),
    ("cny", &["cny", "yuan", "rmb", "renminbi"]),
    ("inr", &["inr", "₹", "rupee", "rupees"]),
    ("cad", &["cad", "canadian dollar", "canadian dollars"]),
    ("aud", &["aud", "australian dollar", "australian dollars"]),
    ("chf", &["chf", "swiss franc", "swiss francs", "franc", "francs"]),
    ("mxn", &["mxn", "peso", "pesos"]),
    ("btc", &["btc", "bitcoin", "bitcoins"]),
    ("eth", &["eth", "ether", "ethereum"]),
    ("x", &["#x"]),
];

const TONES: Table = &[
    ("formal", &["formal", "formally"]),
    ("casual", &["casual", "casually", "informal", "informally", "relaxed", "laid-back", "chatty"]),
    ("friendly", &["friendly", "warmly"]),
    ("professional", &["professional", "professionally", "businesslike", "business-like"]),
    ("polite", &["polite", "politely", "courteous", "courteously", "respectful", "diplomatic", "tactful"]),
    ("blunt", &["blunt", "bluntly", "rude", "harsh", "harshly", "brutally honest", "stern"]),
    (
        "humorous",
        &["humorous", "funny", "witty", "humor", "humour", "playful", "hilarious", "lighthearted", "light-hearted"],
    ),
    ("serious", &["serious", "seriously", "solemn"]),
    ("sarcastic", &["sarcastic", "snarky", "ironic"]),
    ("persuasive", &["persuasive", "convincing", "persuade"]),
    ("academic", &["academic", "scholarly"]),
    ("technical", &["technical", "technically"]),
    (
        "nontechnical",
        &[
            "non-technical",
            "nontechnical",
            "non technical",
            "layman",
            "laymen",
            "layperson",
            "laypeople",
            "layman's terms",
            "laymans terms",
            "layman terms",
            "lay audience",
            "non-expert",
            "non-experts",
        ],
    ),
    (
        "simple",
        &[
            "simply",
            "simple terms",
            "simple language",
            "simple words",
            "plain english",
            "plain language",
            "plain terms",
            "easy to understand",
            "easy-to-understand",
            "eli5",
            "like i'm five",
            "like im five",
            "like i am five",
            "dumb it down",
        ],
    ),
    (
        "child",
        &[
            "child",
            "children",
            "kid",
            "kids",
            "five-year-old",
            "year-old",
            "year old",
            "years old",
            "toddler",
            "little one",
            "preschooler",
            "grade school",
        ],
    ),
    ("teen", &["teen", "teens", "teenager", "teenagers", "high school", "high schooler", "high-school"]),
    (
        "beginner",
        &["beginner", "beginners", "novice", "novices", "newbie", "newbies", "newcomer", "new to", "first-timer"],
    ),
    ("intermediate", &["intermediate"]),
    ("expert", &["expert", "experts", "specialist", "specialists", "seasoned"]),
    (
        "student",
        &["student", "students", "undergraduate", "undergrad", "university student", "college student", "grad student"],
    ),
    (
        "executive",
        &["executive", "executives", "ceo", "cfo", "cto", "c-suite", "leadership", "stakeholder", "stakeholders"],
    ),
    ("developer", &["developer", "developers", "engineer", "engineers", "programmer", "programmers"]),
    ("empathetic", &["empathetic", "empathetically", "compassionate", "sympathetic", "caring", "gentle", "gently"]),
    ("enthusiastic", &["enthusiastic", "excited", "upbeat", "energetic", "cheerful"]),
    ("apologetic", &["apologetic", "apologizing", "apologising", "apology"]),
    ("urgent", &["urgent", "urgently", "asap"]),
    ("neutral", &["neutral", "objective", "unbiased", "impartial"]),
    ("confident", &["confident", "assertive"]),
    ("poetic", &["poetic", "lyrical"]),
    ("pirate", &["pirate"]),
    ("shakespearean", &["shakespearean", "shakespeare"]),
];

const VERBOSITY: Table = &[
    (
        "short",
        &[
            "short",
            "shorter",
            "shortest",
            "brief",
            "briefly",
            "concise",
            "concisely",
            "succinct",
            "succinctly",
            "in a nutshell",
            "terse",
            "one sentence",
            "few words",
            "quick summary",
            "high-level",
            "high level",
        ],
    ),
    (
        "detailed",
        &[
            "detailed",
            "in detail",
            "in-depth",
            "in depth",
            "thorough",
            "thoroughly",
            "comprehensive",
            "comprehensively",
            "extensive",
            "exhaustive",
            "long",
            "longer",
            "lengthy",
            "step by step",
            "step-by-step",
            "deep dive",
            "deep-dive",
        ],
    ),
];

const ORDER: Table = &[
    (
        "asc",
        &[
            "ascending",
            "asc",
            "smallest to largest",
            "lowest to highest",
            "low to high",
            "a to z",
            "a-z",
            "least to most",
            "oldest to newest",
            "increasing order",
        ],
    ),
    (
        "desc",
        &[
            "descending",
            "desc",
            "largest to smallest",
            "highest to lowest",
            "high to low",
            "z to a",
            "z-a",
            "most to least",
            "newest to oldest",
            "decreasing order",
        ],
    ),
    ("reverse", &["reverse order", "reversed order", "reverse alphabetical"]),
    ("alphabetical", &["alphabetical", "alphabetically", "alphabetic"]),
    ("chronological", &["chronological", "chronologically"]),
    ("random", &["random order", "shuffle", "shuffled", "randomly"]),
    (
        "increase",
        &[
            "increase",
            "increases",
            "increased",
            "increasing",
            "raise",
            "raising",
            "boost",
            "boosting",
            "grow",
            "growing",
            "maximize",
            "maximise",
            "scale up",
            "go up",
            "rise",
            "rising",
            "higher",
            "extend",
            "extending",
        ],
    ),
    (
        "decrease",
        &[
            "decrease",
            "decreases",
            "decreased",
            "decreasing",
            "reduce",
            "reducing",
            "reduction",
            "lower",
            "lowering",
            "cut down",
            "cut back",
            "shrink",
            "minimize",
            "minimise",
            "scale down",
            "go down",
            "drop",
            "shorten",
        ],
    ),
    (
        "max",
        &[
            "maximum",
            "max",
            "highest",
            "largest",
            "biggest",
            "greatest",
            "top",
            "most",
            "peak",
            "best-selling",
            "most popular",
        ],
    ),
    ("min", &["minimum", "min", "lowest", "smallest", "least", "fewest", "bottom", "least popular"]),
    (
        "more_than",
        &[
            "more than",
            "greater than",
            "larger than",
            "bigger than",
            "higher than",
            "exceeds",
            "exceeding",
            "exceed",
            ">",
            ">over",
            ">above",
            "over than",
        ],
    ),
    ("less_than", &["less than", "fewer than", "smaller than", "lower than", "<", ">under", ">below", "beneath"]),
    ("at_least", &["at least", ">=", "≥", "no less than", "minimum of"]),
    ("at_most", &["at most", "<=", "≤", "no more than", "maximum of", "up to"]),
    ("not_equal", &["!=", "≠"]),
    ("equal", &["==", "equal to", "equals"]),
    ("before", &["before", "prior to", "earlier than"]),
    ("after", &["after", "later than", "afterwards"]),
    ("best", &["best", "optimal", "ideal"]),
    ("worst", &["worst", "worse"]),
    ("first", &["first", "earliest", "initial"]),
    ("last", &["last", "final", "lastly", "newest", "latest", "most recent", "newer", "up-to-date"]),
    ("next", &["next", "following step", "subsequent"]),
    ("previous", &["previous", "preceding", "prior"]),
    ("oldest", &["oldest", "older", "earliest version", "legacy"]),
    ("faster", &["faster", "quicker", "fastest", "quickest"]),
    ("slower", &["slower", "slowest"]),
    ("cheaper", &["cheaper", "cheapest", "less expensive", "least expensive"]),
    ("pricier", &["more expensive", "most expensive", "pricier", "priciest", "costlier"]),
];

const QUESTIONS: Table = &[
    (
        "why",
        &[
            "?why",
            "what causes",
            "what caused",
            "what is causing",
            "what's causing",
            "cause of",
            "causes of",
            "reason for",
            "reasons for",
            "reason why",
            "reasons why",
            "how come",
            "for what reason",
        ],
    ),
    (
        "when",
        &["?when", "what year", "what time", "what date", "which year", "what day", "in which year", "how long ago"],
    ),
    ("where", &["?where", "in which country", "which country", "what country", "what location", "which location"]),
    ("who", &["?who", "?whom", "?whose", "which person", "what person"]),
];

/// Phrases that are only scaffolding: consumed so their words do not count in any class.
const NEUTRAL: &[&str] = &[
    "best way",
    "the best way",
    "best practice",
    "best practices",
    "at first",
    "first of all",
    "last but not least",
    "at last",
    "more or less",
    "more about",
    "tell me more",
    "no more",
    "the most",
    "most of",
    "more info",
    "more information",
    "more details",
    "at the end",
    "in the end",
    "end of",
    "one day",
    "the day",
    "a day in the life",
    "day to day",
    "day-to-day",
    "in time",
    "on time",
    "a lot more",
    "what else",
    "first aid",
    "last name",
    "first name",
    "top of",
    "on top of",
    "bottom line",
    "the following",
    "as follows",
    "kind of",
    "sort of",
    "raise an exception",
    "raise exception",
    "raise an error",
    "thanks in advance",
    "thank you in advance",
    "thank you",
    "thanks a lot",
    "how long",
    "hi team",
    "hello team",
    "hey team",
    "hi all",
    "hello all",
    "hi there",
    "hello there",
    "hey there",
    "hi everyone",
    "hello everyone",
    "lower case",
    "upper case",
];

const CODE_NOUNS: &[&str] = &[
    "code",
    "program",
    "programs",
    "script",
    "function",
    "functions",
    "snippet",
    "developer",
    "developers",
    "library",
    "crate",
    "compiler",
    "syntax",
    "project",
    "app",
    "macro",
    "closure",
    "trait",
    "struct",
    "module",
    "package",
];

const PREPS: &[&str] =
    &["in", "into", "to", "from", "using", "with", "learn", "learning", "write", "writing", "code", "for", "via"];

/// The class lexicon.
pub(crate) struct Lexicon {
    phrases: HashMap<String, Vec<Entry>>,
    pub(crate) max_len: usize,
}

impl Lexicon {
    pub(crate) fn new() -> Self {
        let mut lex = Self { phrases: HashMap::new(), max_len: 1 };
        let tables: [(Class, Table); 9] = [
            (Class::ProgrammingLanguage, PROGRAMMING),
            (Class::Language, LANGUAGES),
            (Class::Format, FORMATS),
            (Class::Time, TIMES),
            (Class::Unit, UNITS),
            (Class::Tone, TONES),
            (Class::Verbosity, VERBOSITY),
            (Class::Order, ORDER),
            (Class::Question, QUESTIONS),
        ];
        for (class, table) in tables {
            for (key, surfaces) in table {
                for s in *surfaces {
                    lex.add(s, Some(class), key);
                }
            }
        }
        for s in NEUTRAL {
            lex.add(s, None, "");
        }
        lex
    }

    fn add(&mut self, surface: &'static str, class: Option<Class>, key: &'static str) {
        let (cond, text) = match surface.chars().next() {
            Some('^') => (Cond::Cap, &surface[1..]),
            Some('~') => (Cond::CapOrPrep, &surface[1..]),
            Some('!') if surface.len() > 1 && surface != "!=" => (Cond::Upper, &surface[1..]),
            Some('#') if surface.len() > 1 => (Cond::AfterNumber, &surface[1..]),
            Some('>') if surface.len() > 1 && surface != ">=" => (Cond::BeforeNumber, &surface[1..]),
            Some('?') if surface.len() > 1 => (Cond::Initial, &surface[1..]),
            Some('@') => (Cond::Month, &surface[1..]),
            _ => (Cond::Always, surface),
        };
        let entry = Entry { class, key, cond };
        let words = text.split(' ').count();
        self.max_len = self.max_len.max(words);
        self.phrases.entry(text.to_owned()).or_default().push(entry);
    }

    /// True when `phrase` is a class word or a neutral phrase in every context.
    #[cfg(test)]
    pub(crate) fn contains(&self, phrase: &str) -> bool {
        self.phrases.get(phrase).is_some_and(|entries| entries.iter().any(|e| e.cond == Cond::Always))
    }

    /// The entry for `phrase` (lower-case words joined by one space) at `tokens[at..at + len]`,
    /// if one applies in context.
    pub(crate) fn lookup(
        &self,
        phrase: &str,
        tokens: &[Token],
        at: usize,
        len: usize,
        is_number: &dyn Fn(usize) -> bool,
    ) -> Option<Entry> {
        self.phrases
            .get(phrase)
            .and_then(|entries| entries.iter().find(|e| applies(e.cond, tokens, at, len, is_number)))
            .copied()
    }
}

fn applies(cond: Cond, tokens: &[Token], at: usize, len: usize, is_number: &dyn Fn(usize) -> bool) -> bool {
    let Some(tok) = tokens.get(at) else { return false };
    let prev = at.checked_sub(1).and_then(|i| tokens.get(i));
    let prev_lower = prev.map_or("", |t| t.lower.as_str());
    let next_index = at + len;
    match cond {
        Cond::Always => true,
        Cond::Cap => tok.capitalised() && !tok.initial,
        Cond::CapOrPrep => {
            tok.capitalised()
                || PREPS.contains(&prev_lower)
                || tokens.get(next_index).is_some_and(|t| CODE_NOUNS.contains(&t.lower.as_str()))
        }
        Cond::Upper => tok.raw.chars().all(|c| !c.is_lowercase()),
        Cond::AfterNumber => {
            at.checked_sub(1).is_some_and(is_number) || matches!(prev_lower, "per" | "a" | "an" | "each" | "every")
        }
        Cond::BeforeNumber => {
            is_number(next_index)
                || tokens
                    .get(next_index)
                    .is_some_and(|t| t.kind == Kind::Symbol && matches!(t.lower.as_str(), "$" | "€" | "£" | "¥" | "₹"))
        }
        Cond::Initial => {
            tok.initial
                || prev.is_some_and(|p| {
                    p.kind == Kind::Word
                        && matches!(
                            prev_lower,
                            "so" | "and"
                                | "but"
                                | "then"
                                | "also"
                                | "ok"
                                | "okay"
                                | "now"
                                | "hi"
                                | "hello"
                                | "hey"
                                | "please"
                                | "thanks"
                                | "exactly"
                                | "just"
                                | "team"
                                | "there"
                                | "all"
                                | "everyone"
                                | "folks"
                        )
                })
        }
        Cond::Month => {
            (tok.capitalised() && !tok.initial) || is_number(next_index) || at.checked_sub(1).is_some_and(is_number)
        }
    }
}

/// Keys per class for one side.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ClassSets {
    sets: [BTreeSet<&'static str>; 9],
}

impl ClassSets {
    pub(crate) fn insert(&mut self, class: Class, key: &'static str) {
        self.sets[class.index()].insert(key);
    }

    pub(crate) fn get(&self, class: Class) -> &BTreeSet<&'static str> {
        &self.sets[class.index()]
    }
}

/// Rule 5: the first class whose key sets differ (when either side uses it).
pub(crate) fn check(a: &ClassSets, b: &ClassSets) -> Result<(), Class> {
    for class in Class::ALL {
        if a.get(class) != b.get(class) {
            return Err(class);
        }
    }
    Ok(())
}

const FUNCTION_WORDS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "is", "are", "what", "how", "why", "and", "of", "to", "for", "with", "my", "i", "you", "this",
            "that", "can", "does", "please", "write", "explain", "it", "an", "which", "should", "would", "me", "a",
            "about", "at", "be", "have", "give", "tell", "make", "your", "our", "we", "from", "by", "do",
        ],
    ),
    (
        "es",
        &[
            "el", "los", "las", "es", "qué", "cómo", "por", "para", "del", "y", "escribe", "explica", "cuál", "dónde",
            "está", "una", "sobre", "puedes", "cuando", "mis",
        ],
    ),
    (
        "fr",
        &[
            "le", "les", "une", "est", "et", "des", "du", "pour", "avec", "comment", "je", "mon", "vous", "écris",
            "explique", "quel", "quelle", "sur", "dans", "pas", "ce", "pourquoi", "mes",
        ],
    ),
    (
        "de",
        &[
            "der", "das", "und", "ist", "ein", "eine", "wie", "ich", "mein", "nicht", "mit", "für", "auf", "warum",
            "schreibe", "erkläre", "zu", "den", "dem", "sind", "bitte", "einen",
        ],
    ),
    (
        "pt",
        &[
            "uma", "é", "não", "como", "meu", "minha", "você", "da", "dos", "das", "em", "escreva", "explique", "qual",
            "sobre", "isso", "por que",
        ],
    ),
    (
        "it",
        &["il", "gli", "è", "mio", "che", "di", "della", "sono", "scrivi", "spiega", "cosa", "perché", "un", "questo"],
    ),
    ("nl", &["het", "een", "en", "van", "hoe", "wat", "ik", "mijn", "niet", "met", "voor", "schrijf", "waarom"]),
];

/// A guess at the natural language the request is written in, from scripts and function words
/// outside quotes; `None` when unsure.
pub(crate) fn request_language(tokens: &[Token]) -> Option<&'static str> {
    let mut script_counts = [0usize; 8];
    let mut latin = 0usize;
    for t in tokens.iter().filter(|t| t.span.is_none() && t.kind == Kind::Word) {
        for c in t.raw.chars() {
            let slot = match c as u32 {
                0x0400..=0x04FF => Some(0),
                0x0370..=0x03FF => Some(1),
                0x0600..=0x06FF => Some(2),
                0x0590..=0x05FF => Some(3),
                0x0900..=0x097F => Some(4),
                0x3040..=0x30FF => Some(5),
                0x4E00..=0x9FFF => Some(6),
                0xAC00..=0xD7AF | 0x0E00..=0x0E7F => Some(7),
                _ => None,
            };
            match slot {
                Some(s) => script_counts[s] += 1,
                None if c.is_alphabetic() => latin += 1,
                None => {}
            }
        }
    }
    const SCRIPTS: [&str; 8] =
        ["cyrillic", "greek", "arabic", "hebrew", "devanagari", "japanese", "cjk", "hangul_thai"];
    let (best_script, best_count) =
        script_counts.iter().enumerate().max_by_key(|(_, c)| **c).map_or((0, 0), |(i, c)| (i, *c));
    let non_latin: usize = script_counts.iter().sum();
    if non_latin > latin {
        // Kana marks Japanese even when Han characters dominate.
        if script_counts[5] > 0 {
            return Some("japanese");
        }
        return (best_count > 0).then(|| SCRIPTS[best_script]);
    }
    let mut scores = [0usize; 7];
    for t in tokens.iter().filter(|t| t.span.is_none() && t.kind == Kind::Word) {
        for (i, (_, words)) in FUNCTION_WORDS.iter().enumerate() {
            if words.contains(&t.lower.as_str()) {
                scores[i] += 1;
            }
        }
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(scores[i]));
    let (first, second) = (order[0], order[1]);
    if scores[first] >= 2 && scores[first] >= 2 * scores[second].max(1) { Some(FUNCTION_WORDS[first].0) } else { None }
}

#[cfg(test)]
mod tests {
    use super::super::SlotGuard;
    use super::super::Veto;
    use super::super::words::{normalize, tokenize};
    use super::*;

    fn class_veto(a: &str, b: &str) -> Option<&'static str> {
        match SlotGuard::new().check(a, b) {
            Err(Veto::Class(label)) => Some(label),
            _ => None,
        }
    }

    #[test]
    fn class_words_must_match() {
        assert_eq!(class_veto("Write a haiku about autumn", "Write a limerick about autumn"), Some("format"));
        assert_eq!(
            class_veto("What was the weather in Oslo today", "What was the weather in Oslo yesterday"),
            Some("time")
        );
        assert_eq!(
            class_veto("Sort the names in ascending order", "Sort the names in descending order"),
            Some("order")
        );
        assert_eq!(
            class_veto("Write a formal email asking for a day off", "Write a casual email asking for a day off"),
            Some("tone")
        );
        assert_eq!(
            class_veto(
                "Write a Python function that reverses a string",
                "Write a Ruby function that reverses a string"
            ),
            Some("programming_language")
        );
        assert_eq!(
            class_veto("Translate 'thank you' into German", "Translate 'thank you' into Dutch"),
            Some("language")
        );
        assert_eq!(class_veto("Summarize this article", "Summarize this article briefly"), Some("verbosity"));
        assert_eq!(class_veto("Explain recursion to a child", "Explain recursion to an expert"), Some("tone"));
        assert_eq!(class_veto("Why did revenue fall in Q3?", "When did revenue fall in Q3?"), Some("question"));
    }

    #[test]
    fn aliases_share_a_key() {
        assert_eq!(class_veto("Convert this JS snippet to TypeScript", "Convert this JavaScript snippet to TS"), None);
        assert_eq!(class_veto("Show the result as a bulleted list", "Show the result as bullet points"), None);
        assert_eq!(class_veto("How far is 10 kilometres", "How far is 10 km"), None);
    }

    #[test]
    fn ambiguous_words_need_context() {
        // "go" the verb and "may" the modal are not classes.
        assert_eq!(class_veto("Where should I go for lunch?", "Where should I head for lunch?"), None);
        assert_eq!(class_veto("May I ask what SSO is?", "Can I ask what SSO is?"), None);
        // Capitalised mid-sentence, they are.
        assert_eq!(class_veto("Write a web server in Go", "Write a web server in Rust"), Some("programming_language"));
        assert_eq!(class_veto("Is the office open on May 1?", "Is the office open on June 1?"), Some("time"));
    }

    #[test]
    fn request_language_guess() {
        let lang = |s: &str| request_language(&tokenize(&normalize(s)));
        assert_eq!(lang("Write a short story about a dragon"), Some("en"));
        assert_eq!(lang("Escribe una historia corta sobre un dragón"), Some("es"));
        assert_eq!(lang("Schreibe eine kurze Geschichte über einen Drachen"), Some("de"));
        assert_eq!(lang("Напиши короткий рассказ о драконе"), Some("cyrillic"));
        assert_eq!(lang("What does 'el perro es grande' mean in English?"), Some("en"));
        assert_eq!(lang("ok"), None);
    }
}
