// The contract's models. Generated from openapi.json by `make sdk`; do not edit.
export {};
