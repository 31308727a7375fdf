#!/usr/bin/env bash
# Build the train/serve/process images and push them to ECR.
# Usage: containers/build_and_push.sh [REPOSITORY] [TAG_SUFFIX]
#   REPOSITORY  ECR repository name; must start with "sagemaker-" because the SageMaker
#               execution role's managed policy (AmazonSageMakerFullAccess) only grants pulls
#               from repositories named so. Default: sagemaker-fairmot.
#   TAG_SUFFIX  appended to each tag (train-<suffix>, ...). Default: the git short sha.
# Needs docker and the AWS CLI with credentials; region from AWS_REGION or the CLI profile.
set -euo pipefail

repository="${1:-sagemaker-fairmot}"
if [[ "${repository}" != sagemaker-* ]]; then
    echo "repository name must start with 'sagemaker-' (got '${repository}')" >&2
    exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
suffix="${2:-$(git -C "${root}" rev-parse --short HEAD 2>/dev/null || echo latest)}"
region="${AWS_REGION:-$(aws configure get region || true)}"
region="${region:-us-east-1}"
account="$(aws sts get-caller-identity --query Account --output text)"
registry="${account}.dkr.ecr.${region}.amazonaws.com"

aws ecr describe-repositories --region "${region}" --repository-names "${repository}" >/dev/null 2>&1 \
    || aws ecr create-repository --region "${region}" --repository-name "${repository}" \
        --image-scanning-configuration scanOnPush=true >/dev/null
# The public PyTorch base comes from Docker Hub; only our registry needs a login.
aws ecr get-login-password --region "${region}" \
    | docker login --username AWS --password-stdin "${registry}"

for target in train serve process; do
    image="${registry}/${repository}:${target}-${suffix}"
    docker build --file "${root}/containers/Dockerfile" --target "${target}" --tag "${image}" "${root}"
    docker tag "${image}" "${registry}/${repository}:${target}"
    docker push "${image}"
    docker push "${registry}/${repository}:${target}"
    echo "${target}: ${image}"
done
