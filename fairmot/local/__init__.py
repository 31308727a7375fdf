"""Local mode: the AWS pipeline offline, on moto (pinned), with the project's own template,
state machines, Lambda handlers and container entry points.

- `stack.LocalAws`: moto in-process or as a loopback server, the seams, template.yaml deployed.
- `sam` / `deployer`: the SAM translator's CloudFormation, created by moto's CloudFormation as
  one stack; a resource type local mode cannot provide fails the deployment.
- Seams (each patches moto at one named internal; `seam.Patches` undoes them):
  `lambda_seam` (Lambda invoke -> handler in-process, Timeout enforced), `sagemaker_seam`
  (training and processing jobs as local processes), `tuning_seam` (tuning jobs: parallel
  children, searched ranges), `sync_seam` (`.sync`), `endpoint_seam` (endpoints -> local
  `serve`), `eventbridge_seam` (rules -> Step Functions/Lambda targets, published events logged),
  `asl_seam` (`"RoleArn.$"` in Parameters), `timing_seam` (Wait/Retry seconds scaled).
- `daemon`: `fairmot local up/down`. The clients of the running stack live outside:
  `fairmot.local_client` (`fairmot local env|status|logs|invoke|upload` and the console read; the
  verbs themselves, which work on a deployed stack too, are in `fairmot.operator`) and
  `fairmot.demo` (`fairmot local demo`).
"""
