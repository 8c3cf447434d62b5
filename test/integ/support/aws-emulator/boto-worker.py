"""The test's own AWS client (what CloudFormation and the harness do in the account), talking to
moto directly: one request per line on stdin, {"id", "service", "method", "params"}, one answer
per line on stdout, {"id", "result"} or {"id", "error": {"code", "message", "status"}}. A request
may name another "endpoint" (the strict layer, to see its answers as an SDK sees them).
One long-lived process, because each start of Python costs about half a second."""
import base64
import datetime
import json
import os
import sys

import boto3
import botocore.exceptions
from botocore.config import Config

ENDPOINT = os.environ["CACHEFLEET_MOTO_URL"]
session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
clients = {}


def client(service, endpoint):
    if (service, endpoint) not in clients:
        clients[(service, endpoint)] = session.client(service, endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))
    return clients[(service, endpoint)]


def encode(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "read"):
        return value.read().decode()
    raise TypeError(f"cannot encode {type(value)}")


for line in sys.stdin:
    request = json.loads(line)
    answer = {"id": request["id"]}
    params = request.get("params") or {}
    # Blobs travel as {"$base64": "<base64>"}.
    for key, value in list(params.items()):
        if isinstance(value, dict) and set(value) == {"$base64"}:
            params[key] = base64.b64decode(value["$base64"])
    try:
        result = getattr(client(request["service"], request.get("endpoint") or ENDPOINT), request["method"])(**params)
        result.pop("ResponseMetadata", None)
        answer["result"] = result
    except botocore.exceptions.ClientError as error:
        answer["error"] = {
            "code": error.response["Error"].get("Code"),
            "message": error.response["Error"].get("Message"),
            "status": error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        }
    except Exception as error:  # a bad request of the test, or moto's HTML page for a call it does not implement
        moto_500 = "500 Internal Server Error" in str(error)
        answer["error"] = {"code": type(error).__name__, "message": str(error), "status": 500 if moto_500 else None}
    sys.stdout.write(json.dumps(answer, default=encode) + "\n")
    sys.stdout.flush()
