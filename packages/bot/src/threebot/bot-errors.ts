/** Errors of the 3bot (BaseError: short message, details, hint; `exitCode` for the CLI). */
import { BaseError } from "@zgrid/types";

/** Bad input from the owner: a spec, a flag. */
export class BotInputError extends BaseError {
  override readonly code = "BOT_INPUT";
  readonly exitCode = 2;
}

/** A bus caller that is not the bot's own twin. */
export class BotForbiddenError extends BaseError {
  override readonly code = "BOT_FORBIDDEN";
  readonly exitCode = 1;
}
