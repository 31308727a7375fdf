"""`fairmot console`: a browser page for operators over the local stack or a deployed one.

- `source`: what the page shows, read with boto3 (executions, their workflow graph and path,
  SageMaker jobs with metrics and log tail, published events, processed videos);
- `server`: a stdlib HTTP server on 127.0.0.1 serving the page and a small JSON API;
- `static/index.html`: the page, plain JS, refreshing itself while things run.
"""
