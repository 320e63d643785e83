"""The official `anthropic` Python package as a real client of smartflowd's /v1/messages.

Usage: python anthropic_sdk.py PATH/TO/smartflowd PATH/TO/quickstart.toml [PATH/TO/mock_upstream]

Starts the daemon on ephemeral ports with the quickstart configuration, then drives it through
the SDK: a plain message, a streamed one, a tool call and its result (plain and streamed), and
the SDK's own error classes. With the mock upstream binary it also sends messages, streams and
tool round trips through every upstream dialect (OpenAI, Azure OpenAI, Anthropic, Gemini,
Bedrock): the Anthropic front door translated to whatever the target speaks.
"""


import anthropic

import harness

DEMO_KEY = harness.DEMO_KEY
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def test_message(client):
    m = client.messages.create(
        model="smartflow-echo",
        max_tokens=100,
        system="You are terse.",
        messages=[{"role": "user", "content": "Echo me, exactly."}],
    )
    assert m.content[0].type == "text" and m.content[0].text == "Echo me, exactly.", m
    assert m.stop_reason == "end_turn"
    assert m.model == "smartflow-echo"
    assert m.usage.input_tokens > 0 and m.usage.output_tokens > 0


def test_stream(client):
    with client.messages.stream(
        model="smartflow-echo",
        max_tokens=100,
        messages=[{"role": "user", "content": "one two three four five six seven"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "one two three four five six seven", text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


def test_tool_call(client):
    first = client.messages.create(
        model="smartflow-tools",
        max_tokens=100,
        tools=[WEATHER],
        messages=[{"role": "user", "content": "Oslo"}],
    )
    assert first.stop_reason == "tool_use", first
    use = next(b for b in first.content if b.type == "tool_use")
    assert use.name == "get_weather" and use.input == {"city": "Oslo"}, use
    second = client.messages.create(
        model="smartflow-tools",
        max_tokens=100,
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "Oslo"},
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "12C and clear"}]},
        ],
    )
    assert second.content[0].text == "tool result: 12C and clear", second


def test_tool_call_stream(client):
    with client.messages.stream(
        model="smartflow-tools",
        max_tokens=100,
        tools=[WEATHER],
        messages=[{"role": "user", "content": "Bergen"}],
    ) as stream:
        final = stream.get_final_message()
    use = next(b for b in final.content if b.type == "tool_use")
    assert use.input == {"city": "Bergen"}, final
    assert final.stop_reason == "tool_use"


def test_errors(base_url):
    bad = anthropic.Anthropic(base_url=base_url, api_key="not-a-key", max_retries=0)
    try:
        bad.messages.create(model="smartflow-echo", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("a wrong key was accepted")
    except anthropic.AuthenticationError as e:
        assert e.status_code == 401
    good = anthropic.Anthropic(base_url=base_url, api_key=DEMO_KEY, max_retries=0)
    try:
        good.messages.create(model="no-such-model", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("an unknown model was served")
    except anthropic.NotFoundError as e:
        assert e.status_code == 404


def dialect_tests(addr, model, streams):
    client = anthropic.Anthropic(base_url=f"http://{addr}", api_key=DEMO_KEY, max_retries=0)

    def message():
        m = client.messages.create(model=model, max_tokens=50, messages=[{"role": "user", "content": "hi"}])
        assert m.content[0].type == "text" and m.content[0].text, m
        assert m.stop_reason == "end_turn" and m.usage.output_tokens > 0, m

    def stream():
        with client.messages.stream(model=model, max_tokens=50, messages=[{"role": "user", "content": "hi"}]) as s:
            text = "".join(s.text_stream)
            final = s.get_final_message()
        assert text and final.stop_reason == "end_turn", final

    def tool_round_trip(streamed):
        def check():
            kwargs = dict(model=model, max_tokens=50, tools=[WEATHER], messages=[{"role": "user", "content": "Oslo"}])
            if streamed:
                with client.messages.stream(**kwargs) as s:
                    first = s.get_final_message()
            else:
                first = client.messages.create(**kwargs)
            use = next(b for b in first.content if b.type == "tool_use")
            assert first.stop_reason == "tool_use" and use.name == "get_weather" and use.input == {"city": "Oslo"}, first
            second = client.messages.create(model=model, max_tokens=50, tools=[WEATHER], messages=[
                {"role": "user", "content": "Oslo"},
                {"role": "assistant", "content": [b.model_dump() for b in first.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "12C and clear"}]},
            ])
            assert second.content[0].text == "tool result: 12C and clear", second
        return check

    tests = [("message", message), ("tool_call", tool_round_trip(False))]
    if streams:
        tests += [("stream", stream), ("tool_call_stream", tool_round_trip(True))]
    return [(f"{model}/{name}", fn) for name, fn in tests]


def quickstart_tests(addr):
    base_url = f"http://{addr}"
    client = anthropic.Anthropic(base_url=base_url, api_key=DEMO_KEY, max_retries=0)
    return [
        ("message", lambda: test_message(client)),
        ("stream", lambda: test_stream(client)),
        ("tool_call", lambda: test_tool_call(client)),
        ("tool_call_stream", lambda: test_tool_call_stream(client)),
        ("errors", lambda: test_errors(base_url)),
    ]


if __name__ == "__main__":
    harness.main("anthropic-sdk", quickstart_tests, dialect_tests)
