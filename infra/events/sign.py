#!/usr/bin/env python3
"""Re-signs the sample events in this directory after their bodies were edited.

Every signature is computed with the documented sample secret, exactly as the sender does
and as the receivers in shared/connector verify it:

- afosto-webhook.json: `x-afosto-hmac-sha256` = hex(HMAC-SHA256(secret, body)).
- epages-webhook.json: `x-epages-signature` = base64(HMAC-SHA1(secret, uri + ":" + body)),
  uri = `https://{requestContext.domainName}/?tenant={tenant}` (EPAGES_WEBHOOK_URL plus the
  `tenant` parameter, as the install flow registered it).
- install-app.json: `signature` = base64(HMAC-SHA1(secret, code + ":" + access_token_url)),
  written into `queryStringParameters` and the percent-encoded `rawQueryString`.
- poll-orders.json, apply-commands.json: each record's `md5OfBody` (SQS sets it; the
  handlers do not check it, but a sample should not carry a wrong one).

Standard library only. Run from anywhere: `python3 infra/events/sign.py`.
"""

import base64
import hashlib
import hmac
import json
import pathlib
import urllib.parse

SECRET = b"sample-secret-not-for-production"
HERE = pathlib.Path(__file__).resolve().parent


def load(name):
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def save(name, event):
    text = json.dumps(event, indent=2, ensure_ascii=False) + "\n"
    (HERE / name).write_text(text, encoding="utf-8")


def afosto_webhook():
    event = load("afosto-webhook.json")
    body = event["body"].encode("utf-8")
    event["headers"]["x-afosto-hmac-sha256"] = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    save("afosto-webhook.json", event)


def epages_webhook():
    event = load("epages-webhook.json")
    tenant = event["queryStringParameters"]["tenant"]
    uri = "https://%s/?%s" % (
        event["requestContext"]["domainName"],
        urllib.parse.urlencode({"tenant": tenant}),
    )
    message = uri.encode("utf-8")
    if event["body"]:
        message += b":" + event["body"].encode("utf-8")
    digest = hmac.new(SECRET, message, hashlib.sha1).digest()
    event["headers"]["x-epages-signature"] = base64.b64encode(digest).decode("ascii")
    save("epages-webhook.json", event)


def install_app():
    event = load("install-app.json")
    params = event["queryStringParameters"]
    message = ("%s:%s" % (params["code"], params["access_token_url"])).encode("utf-8")
    digest = hmac.new(SECRET, message, hashlib.sha1).digest()
    params["signature"] = base64.b64encode(digest).decode("ascii")
    event["rawQueryString"] = urllib.parse.urlencode(params)
    save("install-app.json", event)


def sqs_md5(name):
    event = load(name)
    for record in event["Records"]:
        record["md5OfBody"] = hashlib.md5(record["body"].encode("utf-8")).hexdigest()
    save(name, event)


if __name__ == "__main__":
    afosto_webhook()
    epages_webhook()
    install_app()
    sqs_md5("poll-orders.json")
    sqs_md5("apply-commands.json")
    print("re-signed the samples in", HERE)
