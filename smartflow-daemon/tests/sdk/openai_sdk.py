"""The official `openai` Python package as a real client of smartflowd.

Usage: python openai_sdk.py PATH/TO/smartflowd PATH/TO/quickstart.toml

Starts the daemon on ephemeral ports with the quickstart configuration (demo key, mock
provider), then drives it through the SDK: a plain call, a streamed call, the model list,
embeddings, and the SDK's own error classes for a wrong key and an unknown model.
"""

import json

import openai

import harness

DEMO_KEY = harness.DEMO_KEY


def test_chat(client):
    r = client.chat.completions.create(
        model="smartflow-echo", messages=[{"role": "user", "content": "Say it back exactly."}]
    )
    assert r.choices[0].message.content == "Say it back exactly.", r
    assert r.model == "smartflow-echo"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0


def test_chat_raw_headers(client):
    raw = client.chat.completions.with_raw_response.create(
        model="smartflow-mock", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-smartflow-target"] == "mock/mock-1"
    assert raw.headers["x-request-id"].startswith("req_")


def test_stream(client):
    stream = client.chat.completions.create(
        model="smartflow-echo",
        messages=[{"role": "user", "content": "one two three four five six seven eight nine ten"}],
        stream=True,
    )
    parts, finish = [], None
    for chunk in stream:
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
    assert "".join(parts) == "one two three four five six seven eight nine ten", parts
    assert finish == "stop"
    assert len(parts) > 2, "the answer arrived in several chunks"


def test_stream_usage(client):
    stream = client.chat.completions.create(
        model="smartflow-mock",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    assert chunks[-1].choices == []


def test_models(client):
    ids = {m.id for m in client.models.list()}
    assert {"smartflow-mock", "smartflow-echo", "smartflow-embed"} <= ids, ids
    assert client.models.retrieve("smartflow-echo").id == "smartflow-echo"


def test_embeddings(client):
    r = client.embeddings.create(model="smartflow-embed", input=["alpha", "beta"])
    assert len(r.data) == 2 and len(r.data[0].embedding) > 0


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_tools(client):
    first = client.chat.completions.create(
        model="smartflow-tools", messages=[{"role": "user", "content": "Oslo"}], tools=[WEATHER_TOOL]
    )
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Oslo"}
    second = client.chat.completions.create(
        model="smartflow-tools",
        messages=[
            {"role": "user", "content": "Oslo"},
            {"role": "assistant", "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": "12C and clear"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert second.choices[0].message.content == "tool result: 12C and clear"
    # Streamed, the arguments arrive in fragments and reassemble.
    stream = client.chat.completions.create(
        model="smartflow-tools", messages=[{"role": "user", "content": "Bergen"}], tools=[WEATHER_TOOL], stream=True
    )
    args = "".join(
        tc.function.arguments or ""
        for chunk in stream
        if chunk.choices and chunk.choices[0].delta.tool_calls
        for tc in chunk.choices[0].delta.tool_calls
    )
    assert json.loads(args) == {"city": "Bergen"}


def test_errors(client, base_url):
    bad = openai.OpenAI(base_url=base_url, api_key="not-a-key", max_retries=0)
    try:
        bad.models.list()
        raise AssertionError("a wrong key was accepted")
    except openai.AuthenticationError as e:
        assert e.status_code == 401
    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("an unknown model was served")
    except openai.NotFoundError as e:
        assert e.code == "model_not_found", e
    try:
        client.chat.completions.create(model="smartflow-mock", messages=[])
        raise AssertionError("empty messages were accepted")
    except openai.BadRequestError as e:
        assert e.param == "messages", e


def dialect_tests(addr, model, streams):
    client = openai.OpenAI(base_url=f"http://{addr}/v1", api_key=DEMO_KEY, max_retries=0)

    def chat():
        r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        assert r.choices[0].message.content and r.choices[0].finish_reason == "stop", r
        assert r.usage.total_tokens > 0

    def stream():
        chunks = list(client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}], stream=True, stream_options={"include_usage": True}))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert chunks[-1].usage.total_tokens > 0

    def tools(streamed):
        def check():
            if streamed:
                chunks = list(client.chat.completions.create(
                    model=model, messages=[{"role": "user", "content": "Oslo"}], tools=[WEATHER_TOOL], stream=True))
                calls = [tc for c in chunks if c.choices and c.choices[0].delta.tool_calls for tc in c.choices[0].delta.tool_calls]
                call_id = next(tc.id for tc in calls if tc.id)
                name = next(tc.function.name for tc in calls if tc.function and tc.function.name)
                args = "".join(tc.function.arguments or "" for tc in calls if tc.function)
            else:
                r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Oslo"}], tools=[WEATHER_TOOL])
                assert r.choices[0].finish_reason == "tool_calls", r
                call = r.choices[0].message.tool_calls[0]
                call_id, name, args = call.id, call.function.name, call.function.arguments
            assert name == "get_weather" and json.loads(args) == {"city": "Oslo"}, args
            second = client.chat.completions.create(model=model, tools=[WEATHER_TOOL], messages=[
                {"role": "user", "content": "Oslo"},
                {"role": "assistant", "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}]},
                {"role": "tool", "tool_call_id": call_id, "content": "12C and clear"},
            ])
            assert second.choices[0].message.content == "tool result: 12C and clear", second
        return check

    def json_mode():
        r = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "status"}], response_format={"type": "json_object"})
        assert json.loads(r.choices[0].message.content) == {"ok": True}, r

    tests = [("chat", chat), ("tools", tools(False)), ("json_mode", json_mode)]
    if streams:
        tests += [("stream", stream), ("tools_stream", tools(True))]
    return [(f"{model}/{name}", fn) for name, fn in tests]


def quickstart_tests(addr):
    base_url = f"http://{addr}/v1"
    client = openai.OpenAI(base_url=base_url, api_key=DEMO_KEY, max_retries=0)
    return [
        ("chat", lambda: test_chat(client)),
        ("chat_raw_headers", lambda: test_chat_raw_headers(client)),
        ("stream", lambda: test_stream(client)),
        ("stream_usage", lambda: test_stream_usage(client)),
        ("models", lambda: test_models(client)),
        ("embeddings", lambda: test_embeddings(client)),
        ("tools", lambda: test_tools(client)),
        ("errors", lambda: test_errors(client, base_url)),
    ]


if __name__ == "__main__":
    harness.main("openai-sdk", quickstart_tests, dialect_tests)
