/**
 * Field arguments as @ArgsType classes: type-graphql keeps their declaration order, while separate
 * @Arg parameters come out reversed in the SDL.
 */
import 'reflect-metadata';
import { ArgsType, Field, Float, ID, Int } from 'type-graphql';
import { TaskStatus } from './enums.js';
import { CreateTaskInput, ListingInput, UpdateTaskInput } from './inputs.js';
import { DateTimeScalar } from './scalars.js';

@ArgsType()
export class TasksArgs {
  @Field(() => TaskStatus, { nullable: true }) status?: TaskStatus | null;
  @Field(() => Int, { nullable: true, defaultValue: 50 }) first?: number | null;
  @Field(() => String, { nullable: true }) after?: string | null;
}

@ArgsType()
export class ListingsArgs {
  @Field(() => Int, { nullable: true, defaultValue: 50 }) first?: number | null;
  @Field(() => String, { nullable: true }) after?: string | null;
  @Field(() => Float, { nullable: true, description: 'Inclusive lower bound on `priceEur`.' })
  minPrice?: number | null;
  @Field(() => Float, { nullable: true, description: 'Inclusive upper bound on `priceEur`.' })
  maxPrice?: number | null;
}

@ArgsType()
export class EventsArgs {
  @Field(() => Int, { nullable: true }) afterPosition?: number | null;
  @Field(() => Int, { nullable: true, defaultValue: 100 }) first?: number | null;
  @Field(() => String, { nullable: true }) stream?: string | null;
}

@ArgsType()
export class TransferLeadershipArgs {
  @Field(() => ID, {
    nullable: true,
    description: 'The follower to hand over to; the leader picks one when left out.',
  })
  to?: string | null;
}

@ArgsType()
export class CreateTaskArgs {
  @Field(() => CreateTaskInput) input!: CreateTaskInput;
  @Field(() => String, { nullable: true }) idempotencyKey?: string | null;
}

@ArgsType()
export class UpdateTaskArgs {
  @Field(() => ID) id!: string;
  @Field(() => UpdateTaskInput) input!: UpdateTaskInput;
  @Field(() => Int, { nullable: true }) expectedVersion?: number | null;
}

@ArgsType()
export class DeleteTaskArgs {
  @Field(() => ID) id!: string;
  @Field(() => Int, { nullable: true }) expectedVersion?: number | null;
}

@ArgsType()
export class UpsertListingArgs {
  @Field(() => ListingInput) input!: ListingInput;
  @Field(() => String, { nullable: true }) idempotencyKey?: string | null;
}

@ArgsType()
export class UpsertListingsArgs {
  @Field(() => [ListingInput]) inputs!: ListingInput[];
  @Field(() => [String], {
    nullable: true,
    description: 'One per input, in order: a repeat of a key stores nothing again.',
  })
  idempotencyKeys?: string[] | null;
}

@ArgsType()
export class ClusterEventsSubscriptionArgs {
  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'First the transitions kept from this instant on (the last 256), then the live ones.',
  })
  since?: Date | null;
}

@ArgsType()
export class EventsSubscriptionArgs {
  @Field(() => String, { nullable: true }) stream?: string | null;
  @Field(() => Int, { nullable: true, description: 'Start just after this position instead of from now.' })
  afterPosition?: number | null;
}
