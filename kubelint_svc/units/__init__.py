"""Units: what is applied together (kustomize roots built, plain folders), before it is linted."""
