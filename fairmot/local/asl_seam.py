"""SEAM: `"RoleArn.$"` in a Parameters block is a path, not a literal key.

moto 5.2.5's ASL lexer has a keyword token for `"RoleArn.$"` (Task `Credentials`); inside
Parameters that token is parsed as a plain key, so `"RoleArn.$": "$.request.RoleArn"` reaches
the service as the literal key `RoleArn.$` and every SageMaker create call whose role comes from
state data fails. AWS evaluates it as a path. This module wraps
`Preprocessor.visitPayload_binding_value`: a literal binding whose key ends in `.$` and whose
value is a string becomes a path binding (`$$.` context paths included).
"""

from __future__ import annotations

from typing import Any

from fairmot.local.seam import Patches


def install(patches: Patches) -> None:
    from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payloadbinding.payload_binding import (
        PayloadBindingStringExpressionSimple,
    )
    from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payloadvaluelit.payload_value_str import (
        PayloadValueStr,
    )
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
        StringContextPath,
        StringJsonPath,
    )
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    original = Preprocessor.visitPayload_binding_value

    def visit_payload_binding_value(self: Any, ctx: Any) -> Any:
        binding = original(self, ctx)
        value = binding.payload_value
        if binding.field.endswith(".$") and isinstance(value, PayloadValueStr):
            path = value.val
            sampler = StringContextPath(path) if path.startswith("$$") else StringJsonPath(path)
            return PayloadBindingStringExpressionSimple(
                field=binding.field[:-2], string_expression_simple=sampler
            )
        return binding

    patches.patch_attribute(Preprocessor, "visitPayload_binding_value", visit_payload_binding_value)
