"""``python -m regretgap.experiments.paper_checks [--help]``: the standalone entry."""

if __name__ == "__main__":
    from regretgap.experiments import paper_checks
    from regretgap.experiments._cli import cli

    raise SystemExit(cli(paper_checks.Args, paper_checks.main, paper_checks.__doc__))
