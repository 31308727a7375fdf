"""Local mode: the AWS pipeline offline, on moto (pinned), with the project's own template,
state machines, Lambda handlers and container entry points.

- `stack.LocalAws`: moto in-process or as a loopback server, the seams, template.yaml deployed.
- `deployer` / `template`: template.yaml's resources created in moto, intrinsics resolved.
- Seams (each patches moto at one named internal; `seam.Patches` undoes them):
  `lambda_seam` (Lambda invoke -> handler in-process), `sagemaker_seam` (training, tuning and
  processing jobs as local processes, `.sync`), `endpoint_seam` (endpoints -> local `serve`),
  `eventbridge_seam` (rules -> Step Functions/Lambda targets, published events logged),
  `asl_seam` (`"RoleArn.$"` in Parameters), `timing_seam` (Wait/Retry seconds scaled).
- `demo`: `fairmot local demo`; `daemon`: `fairmot local up/down`.
"""
