"""Entry points for people and programs: the `policyqa` CLI and the Gradio app."""
