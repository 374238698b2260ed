// HuggingFace checkpoint interop and safetensors (see issue 2).
