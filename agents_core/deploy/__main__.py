"""``python -m agents_core.deploy`` serves ``$WORKFLOW_FILE`` with settings from the environment."""

from agents_core.deploy import main

if __name__ == "__main__":
    main()
