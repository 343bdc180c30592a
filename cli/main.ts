// The `portcullis` command. Subcommands are registered in cli/commands/.
console.log('portcullis: not yet available');
