"""Export zero-shot / fine-tuned CLIP pairs (open_clip, Hugging Face) as `wiseft-pair/1` bundles."""
