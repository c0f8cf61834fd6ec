"""Export a zero-shot CLIP model and fine-tuned members (open_clip, Hugging Face) as `wiseft-pair/2` bundles."""
